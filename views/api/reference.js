// Starts Swagger UI on the page's OpenAPI document; kept in a file so the page needs no inline script.
const main = document.getElementById('reference');
window.SwaggerUIBundle({ url: main.dataset.openapi, domNode: main, deepLinking: true, tryItOutEnabled: false });
