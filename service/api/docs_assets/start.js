// The interactive documentation of this service's /openapi.json; "Authorize" takes an API key.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#api-docs",
    deepLinking: true,
    validatorUrl: null,
    tryItOutEnabled: false,
  });
});
