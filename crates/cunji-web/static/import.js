// The import form's progress: the upload's percentage, then a note while the server checks the file.
// Without JavaScript the form posts as usual; with it, the same post goes through XMLHttpRequest so
// that its progress can be shown, and the answer page replaces this one.
(function () {
  var form = document.getElementById('import-form');
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var bar = document.getElementById('import-progress');
  var note = document.getElementById('import-status');
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var button = form.querySelector('button[type=submit]');
    button.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    note.textContent = '正在上传……';
    var xhr = new XMLHttpRequest();
    xhr.open('POST', form.action);
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round((e.loaded / e.total) * 100);
        note.textContent = '正在上传：' + bar.value + '%';
      }
    };
    xhr.upload.onload = function () {
      bar.removeAttribute('value');
      note.textContent = '上传完成，正在逐行检查（大文件需要几十秒，请勿关闭页面）……';
    };
    xhr.onload = function () {
      document.open();
      document.write(xhr.responseText);
      document.close();
    };
    xhr.onerror = function () {
      button.disabled = false;
      bar.hidden = true;
      note.textContent = '上传中断，未导入任何数据。请检查网络后重试。';
    };
    xhr.send(new FormData(form));
  });
})();
