package keys

import (
	"net/url"
	"testing"
)

func TestEscapeKeepsSlashesAndEncodesEverythingElse(t *testing.T) {
	tests := map[string]string{
		"images/plain-name_1.~v.png": "images/plain-name_1.~v.png",
		"images/a b.png":             "images/a%20b.png",
		"images/a+b.png":             "images/a%2Bb.png",
		"images/50%.png":             "images/50%25.png",
		"images/(x).png":             "images/%28x%29.png",
		"images/café ünï.png":        "images/caf%C3%A9%20%C3%BCn%C3%AF.png",
		"images//double.png":         "images//double.png",
	}
	for key, want := range tests {
		got := Escape(key)
		if got != want {
			t.Errorf("Escape(%q) = %q, want %q", key, got, want)
		}
		if back, err := url.PathUnescape(got); err != nil || back != key {
			t.Errorf("Escape(%q) does not round-trip: %q, %v", key, back, err)
		}
	}
}

func TestIsImage(t *testing.T) {
	tests := map[string]bool{
		"images/a.png": true, "images/A.PNG": true, "images/b.Webp": true, "images/c.svg": true, "images/d.JPEG": true,
		"images/": false, "images/x.png/": false, "images/a.txt": false, "images/noext": false, "": false,
	}
	for key, want := range tests {
		if got := IsImage(key); got != want {
			t.Errorf("IsImage(%q) = %v, want %v", key, got, want)
		}
	}
}
