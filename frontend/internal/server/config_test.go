package server

import "testing"

func TestParseAPIURL(t *testing.T) {
	good := map[string]string{
		"":                                DefaultAPIURL,
		"  ":                              DefaultAPIURL,
		"http://localhost:8080":           "http://localhost:8080",
		"http://localhost:8080/":          "http://localhost:8080",
		"https://api.example.com/v1/":     "https://api.example.com/v1",
		" http://backend-lb.aws:8090 ":    "http://backend-lb.aws:8090",
		"HTTP://Backend.example.com:8090": "http://Backend.example.com:8090",
		"http://[::1]:8080":               "http://[::1]:8080",
	}
	for raw, want := range good {
		got, err := ParseAPIURL(raw)
		if err != nil || got != want {
			t.Errorf("ParseAPIURL(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	bad := []string{
		"localhost:8080",
		"backend-lb:8090",
		"ftp://example.com",
		"javascript:alert(1)",
		"http://",
		"http:///path",
		"http://user:pass@example.com",
		"http://example.com/?q=1",
		"http://example.com/#x",
		"http://example.com:99999",
		"http://example.com:0",
		"://nope",
	}
	for _, raw := range bad {
		if got, err := ParseAPIURL(raw); err == nil {
			t.Errorf("ParseAPIURL(%q) = %q, want an error", raw, got)
		}
	}
}

func TestParsePort(t *testing.T) {
	for raw, want := range map[string]int{"": DefaultPort, "8081": 8081, " 80 ": 80, "65535": 65535} {
		if got, err := ParsePort(raw); err != nil || got != want {
			t.Errorf("ParsePort(%q) = %d, %v; want %d", raw, got, err, want)
		}
	}
	for _, raw := range []string{"0", "-1", "65536", "http", ":80"} {
		if _, err := ParsePort(raw); err == nil {
			t.Errorf("ParsePort(%q) succeeded, want an error", raw)
		}
	}
}
