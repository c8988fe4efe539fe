/*
 * The Phone page (templates/usage/phone.html): the dial pad, and calls placed from this browser
 * with Twilio's Voice JavaScript SDK (static/vendor/twilio-voice/twilio.min.js, which defines
 * `window.Twilio`).
 *
 * - The number field asks for its price as it is typed (htmx, usage:phone-price). The answer
 *   says whether the member may call that number (`data-callable`) and the number itself in
 *   E.164 (`data-number`): the Call button waits for that answer and calls exactly the number
 *   priced. Whether the call goes through, and for how long, is still the server's decision
 *   (Twilio asks our webhook).
 * - The SDK's Device is made on the first call, with an access token the page asks for (POST
 *   with the CSRF header; usage:phone-token); before the token runs out a new one replaces it.
 * - The call's state is said in words (connecting, ringing, in call with its time, ended), with
 *   Hang up and Mute buttons; during a call the dial pad and the keyboard's digits send tones.
 *   Errors are said in words too, from the texts the page gives (#phone-texts).
 *
 * Without JavaScript the page still shows the price of a number sent with its form.
 */
(function () {
  "use strict";

  var root = document.getElementById("phone");
  var textsElement = document.getElementById("phone-texts");
  if (!root || !textsElement) {
    return;
  }
  var texts = JSON.parse(textsElement.textContent);
  var form = document.getElementById("phone-form");
  var input = root.querySelector("[data-phone-number]");
  var price = document.getElementById("phone-price");
  var callButton = root.querySelector("[data-phone-call]");
  var hangUpButton = root.querySelector("[data-phone-hang-up]");
  var muteButton = root.querySelector("[data-phone-mute]");
  var stateText = root.querySelector("[data-phone-state]");
  var timerText = root.querySelector("[data-phone-timer]");
  var errorBox = root.querySelector("[data-phone-error]");
  var canCall = root.getAttribute("data-calling") === "on";

  var device = null;
  var call = null;
  // True from the click on Call until the call ends (the token and the SDK take a moment).
  var busy = false;
  // The E.164 number of the last price answer, when the member may call it.
  var callable = null;
  var startedAt = 0;
  var ticking = null;
  // Twilio's codes for an access token it refused (invalid, expired, too long-lived).
  var TOKEN_ERRORS = [20101, 20104, 20151, 31204, 31205];
  // Its codes for a connection that failed or dropped (31000: a WebSocket closed unexplained).
  var NETWORK_ERRORS = [31000, 31003, 31005, 31009, 53000, 53001];

  // --- Words on the page ----------------------------------------------------------------------

  function showError(text) {
    if (!errorBox) {
      return;
    }
    errorBox.textContent = text;
    errorBox.hidden = false;
  }

  function clearError() {
    if (errorBox) {
      errorBox.textContent = "";
      errorBox.hidden = true;
    }
  }

  function setState(text) {
    if (stateText) {
      stateText.textContent = text;
    }
  }

  function clock(seconds) {
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var rest = seconds % 60;
    var pad = function (value) {
      return (value < 10 ? "0" : "") + value;
    };
    return (hours ? hours + ":" + pad(minutes) : String(minutes)) + ":" + pad(rest);
  }

  function elapsed() {
    return startedAt ? Math.floor((Date.now() - startedAt) / 1000) : 0;
  }

  function startTimer() {
    startedAt = Date.now();
    timerText.textContent = clock(0);
    ticking = window.setInterval(function () {
      timerText.textContent = clock(elapsed());
    }, 1000);
  }

  function stopTimer() {
    if (ticking) {
      window.clearInterval(ticking);
      ticking = null;
    }
  }

  // What a Twilio error (or our own) means for the member.
  function describe(error) {
    var code = error && error.code;
    if (code === 31401 || (error && error.name === "NotAllowedError")) {
      return texts.microphone;
    }
    if (code === 31402 || (error && error.name === "NotFoundError")) {
      return texts.no_microphone;
    }
    if (code === 31486) {
      return texts.busy;
    }
    if (code === 31480) {
      return texts.no_answer;
    }
    if (code === 31603) {
      return texts.declined;
    }
    if (code === 31404 || code === 31400) {
      return texts.refused;
    }
    if (TOKEN_ERRORS.indexOf(code) >= 0) {
      return texts.token_failed;
    }
    if (NETWORK_ERRORS.indexOf(code) >= 0) {
      return texts.network;
    }
    if (!code && error && error.message) {
      return error.message;
    }
    return texts.failed + (code ? " (" + code + ")" : "");
  }

  // --- Buttons ------------------------------------------------------------------------------

  function updateButtons() {
    if (callButton) {
      callButton.hidden = busy;
      callButton.disabled = busy || !callable;
    }
    if (hangUpButton) {
      hangUpButton.hidden = !busy;
    }
    if (muteButton) {
      muteButton.hidden = !call;
    }
  }

  function showMuted(muted) {
    if (!muteButton) {
      return;
    }
    muteButton.setAttribute("aria-pressed", muted ? "true" : "false");
    muteButton.textContent = muted ? texts.unmute : texts.mute;
    if (call) {
      setState(muted ? texts.in_call + " · " + texts.muted : texts.in_call);
    }
  }

  function readPrice() {
    var answer = price && price.querySelector("[data-number]");
    callable = answer && answer.hasAttribute("data-callable") ? answer.getAttribute("data-number") : null;
    updateButtons();
  }

  function refreshPrice() {
    if (window.htmx && input && input.value) {
      window.htmx.trigger(input, "phone:refresh");
    }
  }

  // --- The SDK ------------------------------------------------------------------------------

  function fetchToken() {
    return window
      .fetch(root.getAttribute("data-token-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "X-CSRFToken": root.getAttribute("data-csrf-token"),
          Accept: "application/json",
        },
      })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (body) {
            if (!response.ok || !body.token) {
              throw new Error(body.message || texts.token_failed);
            }
            return body.token;
          });
      });
  }

  function dropDevice() {
    var old = device;
    device = null;
    if (old) {
      try {
        old.destroy();
      } catch (error) {
        // Already torn down: nothing left to close.
      }
    }
  }

  function getDevice() {
    if (device) {
      return Promise.resolve(device);
    }
    if (!window.Twilio || !window.Twilio.Device || !window.Twilio.Device.isSupported) {
      return Promise.reject(new Error(texts.unsupported));
    }
    return fetchToken().then(function (token) {
      device = new window.Twilio.Device(token, {
        // The browser asks before leaving the page during a call.
        closeProtection: true,
        codecPreferences: ["opus", "pcmu"],
      });
      device.on("tokenWillExpire", function () {
        fetchToken()
          .then(function (fresh) {
            device.updateToken(fresh);
          })
          .catch(function (error) {
            showError(describe(error));
          });
      });
      device.on("error", function (error) {
        showError(describe(error));
        // A refused token, or a call that could not start: the next call starts afresh, with
        // a new token and a new connection.
        if (TOKEN_ERRORS.indexOf(error && error.code) >= 0 || (busy && !call)) {
          dropDevice();
          finish();
        }
      });
      return device;
    });
  }

  // --- A call -------------------------------------------------------------------------------

  function finish() {
    if (!busy && !call) {
      return;
    }
    var lasted = elapsed();
    var placed = call !== null;
    stopTimer();
    startedAt = 0;
    call = null;
    busy = false;
    if (lasted) {
      setState(texts.ended + " · " + clock(lasted));
    } else {
      // A call that never started has nothing to say beyond its error.
      setState(placed ? texts.ended : "");
    }
    showMuted(false);
    updateButtons();
    if (callButton && !callButton.disabled) {
      callButton.focus();
    }
    // The call's cost reaches the balance once Twilio reports it: ask for the time left again.
    window.setTimeout(refreshPrice, 5000);
  }

  function startCall() {
    if (busy || !callable || !canCall) {
      return;
    }
    var number = callable;
    busy = true;
    clearError();
    timerText.textContent = "";
    setState(texts.connecting);
    updateButtons();
    if (hangUpButton) {
      hangUpButton.focus();
    }
    getDevice()
      .then(function (phone) {
        return phone.connect({ params: { To: number } });
      })
      .then(function (placed) {
        if (!busy) {
          // Hung up while connecting.
          placed.disconnect();
          return;
        }
        call = placed;
        updateButtons();
        placed.on("ringing", function () {
          setState(texts.ringing);
        });
        placed.on("accept", function () {
          setState(texts.in_call);
          startTimer();
        });
        placed.on("mute", function (muted) {
          showMuted(muted);
        });
        placed.on("error", function (error) {
          showError(describe(error));
        });
        placed.on("disconnect", finish);
        placed.on("cancel", finish);
        placed.on("reject", finish);
      })
      .catch(function (error) {
        showError(describe(error));
        dropDevice();
        finish();
      });
  }

  function hangUp() {
    if (call) {
      call.disconnect();
    } else if (busy) {
      // Still connecting: drop the connection, the next call makes a new one.
      dropDevice();
      finish();
    }
  }

  // --- Typing -------------------------------------------------------------------------------

  function type(key) {
    if (call) {
      if (/^[0-9*#]$/.test(key)) {
        call.sendDigits(key);
      }
      return;
    }
    if (key === "erase") {
      input.value = input.value.slice(0, -1);
    } else if (input.value.length < (input.maxLength > 0 ? input.maxLength : 40)) {
      input.value += key;
    }
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  if (input) {
    input.addEventListener("input", function () {
      // A new number: wait for its price before calling it.
      callable = null;
      updateButtons();
    });
  }

  if (form) {
    // Enter in the field asks for the price again (the page without JavaScript would reload).
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      refreshPrice();
    });
  }

  root.querySelectorAll("[data-key]").forEach(function (button) {
    button.addEventListener("click", function () {
      type(button.getAttribute("data-key"));
    });
  });

  // During a call, the keyboard's digits, * and # send tones too (not while typing in a field).
  document.addEventListener("keydown", function (event) {
    if (!call || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    var target = event.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA")) {
      return;
    }
    if (/^[0-9*#]$/.test(event.key)) {
      call.sendDigits(event.key);
    }
  });

  if (price) {
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail && event.detail.target === price) {
        readPrice();
      }
    });
  }

  if (callButton) {
    callButton.addEventListener("click", startCall);
  }
  if (hangUpButton) {
    hangUpButton.addEventListener("click", hangUp);
  }
  if (muteButton) {
    muteButton.addEventListener("click", function () {
      if (call) {
        call.mute(!call.isMuted());
      }
    });
  }

  readPrice();
})();
