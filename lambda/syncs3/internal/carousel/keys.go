package carousel

import "github.com/myappctl/myappctl/lambda/syncs3/keys"

// IsImageKey reports whether key names an image file: not a "folder" marker, and with an image extension in any
// letter case. The rule lives in lambda/syncs3/keys, shared with myappctl's s3-sync stage.
func IsImageKey(key string) bool { return keys.IsImage(key) }

// EscapeKey percent-encodes each path segment of an object key for use in a URL (see keys.Escape): spaces, '+',
// '%' and UTF-8 survive the trip to S3 intact, while the slashes between segments are kept.
func EscapeKey(key string) string { return keys.Escape(key) }
