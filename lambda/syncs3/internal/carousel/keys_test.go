package carousel

import "testing"

func TestEscapeKey(t *testing.T) {
	tests := map[string]string{
		"images/plain-name_1.~v.png": "images/plain-name_1.~v.png",
		"images/a b.png":             "images/a%20b.png",
		"images/a+b.png":             "images/a%2Bb.png",
		"images/50%.png":             "images/50%25.png",
		"images/(x).png":             "images/%28x%29.png",
		"images/é.png":               "images/%C3%A9.png",
		"images//double.png":         "images//double.png",
	}
	for key, want := range tests {
		if got := EscapeKey(key); got != want {
			t.Errorf("EscapeKey(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestIsImageKey(t *testing.T) {
	tests := map[string]bool{
		"images/a.png": true, "images/A.PNG": true, "images/b.Webp": true, "images/c.svg": true,
		"images/": false, "images/x.png/": false, "images/a.txt": false, "images/noext": false, "": false,
	}
	for key, want := range tests {
		if got := IsImageKey(key); got != want {
			t.Errorf("IsImageKey(%q) = %v, want %v", key, got, want)
		}
	}
}
