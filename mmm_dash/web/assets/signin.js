// The login page's proof of work (see mmm_dash/web/auth/throttle.py). Before the form is posted, ask
// the server for a challenge; when the account has seen wrong passwords recently the answer needs
// `bits` leading zero bits of SHA-256(challenge + ":" + answer), which this finds in a second or two.
// Loaded by login.html only (Dash's pages ignore it: assets_ignore in the app factory).
(function () {
  "use strict";

  var K = new Int32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);
  var INITIAL = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
  var W = new Int32Array(64);

  // One 64-byte block of `bytes` at `offset` into `h` (8 int32 words, updated in place).
  function compress(h, bytes, offset) {
    var i, t1, t2;
    for (i = 0; i < 16; i++) {
      var j = offset + 4 * i;
      W[i] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3];
    }
    for (i = 16; i < 64; i++) {
      var x = W[i - 15], y = W[i - 2];
      var s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      var s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
    }
    var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (i = 0; i < 64; i++) {
      t1 = (k + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
        ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
      t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
        ((a & b) ^ (a & c) ^ (b & c))) | 0;
      k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
    h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + k) | 0;
  }

  // Finds the smallest answer (decimal digits) whose hash with `challenge` starts with `bits` zero bits,
  // in slices that leave the page responsive; calls done(answer).
  function solve(challenge, bits, done) {
    var prefix = challenge + ":";  // challenges are URL-safe ASCII
    var full = prefix.length - (prefix.length % 64);
    var mid = new Int32Array(INITIAL);
    var bytes = new Uint8Array(full);
    for (var i = 0; i < full; i++) bytes[i] = prefix.charCodeAt(i);
    for (var off = 0; off < full; off += 64) compress(mid, bytes, off);
    var rest = prefix.slice(full);
    var block = new Uint8Array(128);
    var h = new Int32Array(8);
    var shift = 32 - Math.min(bits, 32);
    var answer = 0;

    function attempt(n) {
      var digits = String(n), len = rest.length + digits.length, j;
      block.fill(0);
      for (j = 0; j < rest.length; j++) block[j] = rest.charCodeAt(j);
      for (j = 0; j < digits.length; j++) block[rest.length + j] = digits.charCodeAt(j);
      block[len] = 0x80;
      var blocks = len + 9 <= 64 ? 1 : 2;
      var bitLength = (full + len) * 8, end = blocks * 64;
      block[end - 4] = bitLength >>> 24; block[end - 3] = bitLength >>> 16;
      block[end - 2] = bitLength >>> 8; block[end - 1] = bitLength;
      h.set(mid);
      compress(h, block, 0);
      if (blocks === 2) compress(h, block, 64);
      return bits === 0 || h[0] >>> shift === 0;
    }

    (function slice() {
      for (var stop = answer + 50000; answer < stop; answer++) {
        if (attempt(answer)) return done(String(answer));
      }
      setTimeout(slice, 0);
    })();
  }

  function setup() {
    var form = document.getElementById("login-form");
    if (!form) return;
    var button = document.getElementById("login-submit");
    var label = button.textContent;
    window.addEventListener("pageshow", function () {  // back to this page (from the cache): start afresh
      form.dataset.ready = "";
      button.disabled = false;
      button.textContent = label;
    });
    function post(challenge, answer) {
      form.elements.pow_challenge.value = challenge || "";
      form.elements.pow_answer.value = answer || "";
      form.dataset.ready = "1";
      HTMLFormElement.prototype.submit.call(form);
    }
    form.addEventListener("submit", function (event) {
      if (form.dataset.ready === "1") return;
      event.preventDefault();
      if (form.dataset.ready === "asking") return;  // a second Enter while the first is being checked
      form.dataset.ready = "asking";
      button.disabled = true;
      var body = new URLSearchParams();
      body.set("email", form.elements.email.value);
      fetch("/login/challenge", { method: "POST", body: body, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (c) {
          if (!c || !c.bits) return post(c && c.challenge, "");
          button.textContent = "Checking this browser…";
          solve(c.challenge, c.bits, function (answer) { post(c.challenge, answer); });
        })
        .catch(function () { post("", ""); });  // the server decides; a check it needed is asked for again
    });
  }

  window.mmmSolveChallenge = solve;  // for tests of this file against the server's own check
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
