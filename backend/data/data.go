// Package data holds the backend's bundled files. carrousel.json is the
// original backend's carousel list, kept as the fallback served when the bucket
// is not configured or not answering; its paths point at the sample images the
// backend itself serves under /images/.
package data

import (
	_ "embed"
)

//go:embed carrousel.json
var carrouselJSON []byte

// CarrouselJSON returns a copy of the bundled carrousel.json.
func CarrouselJSON() []byte { return append([]byte(nil), carrouselJSON...) }
