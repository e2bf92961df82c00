// Package pbpublic embeds PhaseFlow's web front end (the files of this directory) into the
// binary. There is no bundler: the pages are plain ES modules, and the PocketBase JS SDK is copied
// from node_modules into vendor/ by the build (`make`), never committed.
package pbpublic

import "embed"

// Files holds the front end: index.html (the shell of every page), css/, js/, the favicon and the
// vendored SDK. The SDK is named on its own line so that a build without `make` (no vendor/
// copy) fails here instead of serving pages that cannot load.
//
//go:embed index.html favicon.svg css js
//go:embed vendor/pocketbase.es.mjs
var Files embed.FS

// SDKPath is the vendored PocketBase JS SDK inside Files; pages import it by this path.
const SDKPath = "vendor/pocketbase.es.mjs"
