// Passkey buttons on the sign-in pages: progressive enhancement. Without JavaScript, or in a browser
// without WebAuthn, the passkey parts stay hidden and every other form works as before. With it, a
// button asks Gatehouse for the ceremony's options (a challenge bound to this sign-in), lets
// @simplewebauthn/browser talk to the authenticator, and posts the answer in an ordinary form, so the
// server answers with its usual redirect or page.
(function () {
  'use strict';
  const lib = window.SimpleWebAuthnBrowser;
  if (!lib || !lib.browserSupportsWebAuthn()) return;

  /** The ceremony's options from Gatehouse, for this form's CSRF token. */
  async function fetchOptions(form) {
    const body = new URLSearchParams({ _csrf: form.elements._csrf.value });
    const res = await fetch(form.dataset.optionsUrl, { method: 'POST', body, headers: { accept: 'application/json' }, credentials: 'same-origin' });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(json.error_description || 'Gatehouse could not start the passkey request. Reload the page and try again.');
    return json;
  }

  function showError(form, message) {
    const box = document.getElementById(form.dataset.errorId);
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
  }

  /** Why the browser gave no credential, in words a user can act on. */
  function describe(error) {
    if (error && error.name === 'NotAllowedError') return 'The passkey request was cancelled or timed out. Try again, or use another way to sign in.';
    if (error && error.name === 'InvalidStateError') return 'This passkey or security key is already registered for your account.';
    return (error && error.message) || 'Your passkey could not be used. Try again, or use another way to sign in.';
  }

  function submit(form, flowId, response) {
    form.elements.flowId.value = flowId;
    form.elements.response.value = JSON.stringify(response);
    form.submit();
  }

  async function run(form, ceremony) {
    try {
      const { flowId, options } = await fetchOptions(form);
      const response = ceremony === 'register' ? await lib.startRegistration({ optionsJSON: options }) : await lib.startAuthentication({ optionsJSON: options });
      submit(form, flowId, response);
    } catch (error) {
      showError(form, describe(error));
    }
  }

  // the script may load before the page's last passkey forms (Security Settings has several): wire them once it is parsed
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', wire);
  else wire();

  function wire() {
    for (const section of document.querySelectorAll('[data-passkey-section]')) section.hidden = false;

    for (const form of document.querySelectorAll('form[data-passkey]')) {
      const ceremony = form.dataset.passkey;
      form.addEventListener('submit', (event) => {
        if (form.elements.response.value) return; // the answer is in: a real submit
        event.preventDefault();
        void run(form, ceremony);
      });
      // The sign-in page also offers its passkeys in the email field's autofill where the browser can.
      if (ceremony === 'sign-in') {
        void lib.browserSupportsWebAuthnAutofill().then(async (supported) => {
          if (!supported) return;
          try {
            const { flowId, options } = await fetchOptions(form);
            submit(form, flowId, await lib.startAuthentication({ optionsJSON: options, useBrowserAutofill: true }));
          } catch (error) {
            // a button press aborts the autofill request: that is no error to show
            if (error && error.name !== 'AbortError') showError(form, describe(error));
          }
        });
      }
    }
  }
})();
