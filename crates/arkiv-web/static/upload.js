// Upload progress on the deposit page.
//
// Without this script the upload form posts as any form does, and works.
// With it, the same form goes by XMLHttpRequest so that a progress bar can
// show how much of a large file has been sent; the server's answer then
// takes the page's place as a normal submission's would: the deposit page
// after a success (the 303 is followed), or the error page's message.
(function () {
  "use strict";
  if (!window.FormData || !window.XMLHttpRequest || !window.DOMParser) return;
  var forms = document.querySelectorAll("form.upload-form");
  Array.prototype.forEach.call(forms, function (form) {
    var bar = form.querySelector("progress.upload-progress");
    var status = form.querySelector(".upload-status");
    var button = form.querySelector("button[type=submit]");
    if (!bar || !status || !button) return;
    form.setAttribute("data-progress", "on");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      bar.hidden = false;
      bar.value = 0;
      button.disabled = true;
      status.textContent = "Sending…";
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        bar.max = e.total;
        bar.value = e.loaded;
        status.textContent = Math.floor((100 * e.loaded) / e.total) + "% sent";
      });
      xhr.upload.addEventListener("load", function () {
        status.textContent = "Sent; the repository is checking the file…";
      });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300 && xhr.responseURL) {
          window.location.assign(xhr.responseURL);
          return;
        }
        // An error page (too large, not allowed, changed meanwhile): show
        // it in place of this one, as a plain submission would have.
        var page = new DOMParser().parseFromString(xhr.responseText, "text/html");
        document.title = page.title;
        document.body.replaceWith(document.adoptNode(page.body));
      });
      xhr.addEventListener("error", function () {
        bar.hidden = true;
        button.disabled = false;
        status.textContent = "The upload did not get through. Check the connection and try again.";
      });
      xhr.send(new FormData(form));
    });
  });
})();
