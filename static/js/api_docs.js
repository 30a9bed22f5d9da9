// The API docs page (templates/api/docs.html): Swagger UI inside the app's own layout.
// Swagger UI's BaseLayout wraps the operations in a second <main>, but the app's layout already
// has the page's one main landmark; this layout is BaseLayout with a <div> there. It is added by
// wrapping SwaggerUIBundle before drf-spectacular's start-up script calls it (no inline script:
// the content security policy forbids them).
(function () {
  "use strict";
  var original = window.SwaggerUIBundle;
  if (!original) { return; }

  function AppLayoutPlugin(system) {
    var h = system.React.createElement;
    function AppLayout(props) {
      var get = props.getComponent, spec = props.specSelectors;
      var Errors = get("errors", true), Row = get("Row"), Col = get("Col");
      var status = spec.loadingStatus();
      if (status === "loading" || status === "failed" || status === "failedConfig" || !spec.specStr()) {
        var message = status === "loading" ? "Loading the operations…" : "The API description could not be loaded.";
        return h("div", { className: "swagger-ui" }, h("p", { className: "text-muted small", role: "status" }, message),
          status === "loading" ? null : h(Errors, null));
      }
      var servers = spec.servers(), schemes = spec.schemes();
      var hasServers = servers && servers.size, hasSchemes = schemes && schemes.size;
      var hasAuth = !!spec.securityDefinitions();
      var full = function (child) { return h(Row, null, h(Col, { mobile: 12, desktop: 12 }, child)); };
      return h("div", { className: "swagger-ui" },
        h(get("SvgAssets"), null),
        h(Errors, null),
        hasServers || hasSchemes || hasAuth ? h("div", { className: "scheme-container" },
          h(Col, { className: "schemes wrapper", mobile: 12 },
            hasServers || hasSchemes ? h("div", { className: "schemes-server-container" },
              hasServers ? h(get("ServersContainer", true), null) : null,
              hasSchemes ? h(get("SchemesContainer", true), null) : null) : null,
            hasAuth ? h(get("AuthorizeBtnContainer", true), null) : null)) : null,
        h(get("FilterContainer", true), null),
        // The page's h1 and introduction replace Swagger's title block; the operations' group
        // headings (h3) follow this h2, in order.
        h("h2", { className: "h5 mt-3" }, "Operations"),
        h("div", { id: "operations" }, full(h(get("operations", true), null)), full(h(get("Models", true), null))));
    }
    return { components: { AppLayout: AppLayout } };
  }

  var wrapped = function (options) {
    options.plugins = (options.plugins || []).concat([AppLayoutPlugin]);
    options.layout = "AppLayout";
    // Deep links put a link inside each operation's toggle button (axe: nested-interactive).
    options.deepLinking = false;
    return original(options);
  };
  Object.keys(original).forEach(function (key) { wrapped[key] = original[key]; });
  window.SwaggerUIBundle = wrapped;
})();
