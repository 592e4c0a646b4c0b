// Client-side helpers for the dashboard shell.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  mmm: {
    // When the polled bundle state is settled (ready or failed), reload so the page shows it.
    reloadWhenBuilt: function (data) {
      if (data && data.status) {
        window.location.reload();
      }
      return window.dash_clientside.no_update;
    },
  },
});
