// Starts Swagger UI on the page's OpenAPI document; kept in a file so the page needs no inline script.
// Without deep links, an operation's summary holds no link inside its button (nested controls confuse screen readers).
const main = document.getElementById('reference');
window.SwaggerUIBundle({ url: main.dataset.openapi, domNode: main, deepLinking: false, tryItOutEnabled: false });
