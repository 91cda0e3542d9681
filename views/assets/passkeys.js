// Passkeys on NetID's pages, with SimpleWebAuthn's browser bundle (/assets/webauthn.js).
// Forms say what to do in data attributes; without a browser that supports WebAuthn they stay hidden.
(function () {
  'use strict';
  var webauthn = window.SimpleWebAuthnBrowser;
  var supported = Boolean(webauthn && webauthn.browserSupportsWebAuthn());

  function fetchOptions(form) {
    return fetch(form.getAttribute('data-options'), { credentials: 'same-origin', headers: { accept: 'application/json' } }).then(function (response) {
      // A change that needs a recent sign-in: off to sign in again, and back to this page.
      if (response.status === 401) {
        return response.json().then(function (answer) {
          window.location.assign(answer.sign_in);
          var leaving = new Error('signing in again');
          leaving.name = 'AbortError';
          throw leaving;
        });
      }
      if (!response.ok) throw new Error('options refused: ' + response.status);
      return response.json();
    });
  }

  function showError(form) {
    var message = form.querySelector('.passkey-error');
    if (!message) return;
    message.textContent = form.getAttribute('data-error') || '';
    message.hidden = false;
  }

  function send(form, credential) {
    form.querySelector('input[name=credential]').value = JSON.stringify(credential);
    form.submit();
  }

  function isAbort(error) {
    return error && (error.name === 'AbortError' || error.code === 'ERROR_CEREMONY_ABORTED');
  }

  // Sign in (or prove the second step) with a passkey: a button, and on the sign-in form also the identifier field's autofill.
  Array.prototype.forEach.call(document.querySelectorAll('form[data-passkey-sign-in]'), function (form) {
    if (!supported) return;
    form.hidden = false;
    form.querySelector('button').addEventListener('click', function () {
      fetchOptions(form)
        .then(function (options) {
          return webauthn.startAuthentication({ optionsJSON: options });
        })
        .then(function (credential) {
          send(form, credential);
        })
        .catch(function (error) {
          if (!isAbort(error)) showError(form);
        });
    });
    if (form.getAttribute('data-conditional') !== 'true') return;
    webauthn
      .browserSupportsWebAuthnAutofill()
      .then(function (autofill) {
        if (!autofill) return undefined;
        return fetchOptions(form).then(function (options) {
          return webauthn.startAuthentication({ optionsJSON: options, useBrowserAutofill: true }).then(function (credential) {
            send(form, credential);
          });
        });
      })
      .catch(function () {
        // The person typed a password instead, or pressed the button: nothing to say.
      });
  });

  // Add a passkey on the Security page: the browser creates it, then the form sends it with its name.
  Array.prototype.forEach.call(document.querySelectorAll('form[data-passkey-register]'), function (form) {
    var unsupported = document.getElementById(form.getAttribute('data-unsupported'));
    if (!supported) {
      form.hidden = true;
      if (unsupported) unsupported.hidden = false;
      return;
    }
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      fetchOptions(form)
        .then(function (options) {
          return webauthn.startRegistration({ optionsJSON: options });
        })
        .then(function (credential) {
          send(form, credential);
        })
        .catch(function (error) {
          if (!isAbort(error)) showError(form);
        });
    });
  });
})();
