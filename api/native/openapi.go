package native

import (
	_ "embed"
	"net/http"
)

// OpenAPI is the OpenAPI 3.1 document of the native API. Tests validate
// real responses against it, so it cannot drift from the handlers.
//
//go:embed openapi.json
var OpenAPI []byte

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(OpenAPI)
}
