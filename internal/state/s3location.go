package state

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// S3Location is a state kept in S3: s3://Bucket/Key (the lock is Key.lock).
type S3Location struct{ Bucket, Key string }

func (l S3Location) String() string { return "s3://" + l.Bucket + "/" + l.Key }

// IsS3URL reports whether a state_file value names S3 rather than a local
// file: it starts with "s3:" (in any letter case).
func IsS3URL(s string) bool { return len(s) >= 3 && strings.EqualFold(s[:3], "s3:") }

// ParseS3URL reads s3://BUCKET/KEY, checking the bucket name against S3's
// rules and the key for what a state file needs, so a typo is reported
// before any AWS call.
func ParseS3URL(s string) (S3Location, error) {
	rest, ok := cutPrefixFold(s, "s3://")
	if !ok {
		return S3Location{}, fmt.Errorf("%q is not an S3 URL: write s3://BUCKET/KEY, e.g. s3://my-team-state/myapp.json", s)
	}
	bucket, key, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return S3Location{}, fmt.Errorf("%q names no bucket: write s3://BUCKET/KEY, e.g. s3://my-team-state/myapp.json", s)
	}
	if err := checkBucketName(bucket); err != nil {
		return S3Location{}, fmt.Errorf("%q: bucket name %q %v", s, bucket, err)
	}
	if err := checkStateKey(key); err != nil {
		return S3Location{}, fmt.Errorf("%q: %v", s, err)
	}
	return S3Location{Bucket: bucket, Key: key}, nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// checkBucketName applies the naming rules of S3 general purpose buckets.
func checkBucketName(b string) error {
	switch {
	case len(b) < 3 || len(b) > 63:
		return fmt.Errorf("must be 3-63 characters long, not %d", len(b))
	case strings.ToLower(b) != b:
		return fmt.Errorf("must be lowercase (did you mean %q?)", strings.ToLower(b))
	case strings.Trim(b, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "":
		return fmt.Errorf("may hold only lowercase letters, digits, '.' and '-'")
	case !isAlnum(b[0]) || !isAlnum(b[len(b)-1]):
		return fmt.Errorf("must begin and end with a letter or digit")
	case strings.Contains(b, ".."):
		return fmt.Errorf("must not contain two adjacent periods")
	case isIPv4(b):
		return fmt.Errorf("must not look like an IP address")
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(b, p) {
			return fmt.Errorf("must not start with %q (reserved by S3)", p)
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(b, s) {
			return fmt.Errorf("must not end with %q (reserved by S3)", s)
		}
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func isIPv4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}

// checkStateKey wants an object name: not empty, not a "folder", and short
// enough that KEY.lock is a valid key too (1,024 bytes of UTF-8).
func checkStateKey(k string) error {
	switch {
	case k == "":
		return fmt.Errorf("names no object key: write s3://BUCKET/KEY, e.g. s3://my-team-state/myapp.json")
	case strings.HasSuffix(k, "/"):
		return fmt.Errorf("key %q ends with '/': name the state object itself, e.g. %smyapp.json", k, k)
	case !utf8.ValidString(k):
		return fmt.Errorf("key is not valid UTF-8")
	case len(k)+len(".lock") > 1024:
		return fmt.Errorf("key is %d bytes long; at most %d (the lock is KEY.lock, and S3 keys are at most 1024 bytes)", len(k), 1024-len(".lock"))
	}
	return nil
}
