package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/viper"
)

// checkKeys rejects keys of the file that are not configuration keys, each
// with the closest valid key: a typo never silently falls back to a
// default. Only the file can bring unknown keys (environment variables and
// flags map to known keys only).
func checkKeys(v *viper.Viper, file string) error {
	known := allKeys()
	var problems []string
	for _, key := range v.AllKeys() {
		if slices.Contains(known, key) || isSection(key, known) {
			continue
		}
		msg := fmt.Sprintf("%s: unknown key %q", file, key)
		if s := closestKey(key, known); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		} else {
			msg += " (configs/example.yaml lists every key)"
		}
		problems = append(problems, msg)
	}
	slices.Sort(problems)
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return nil
}

// isSection reports a key that names a section ("vpc:" left empty).
func isSection(key string, known []string) bool {
	return slices.ContainsFunc(known, func(k string) bool { return strings.HasPrefix(k, key+".") })
}

// closestKey is the known key nearest to key by edit distance (a swap of
// two letters counts as one edit), or one with the same last part in
// another section; "" when none is close.
func closestKey(key string, known []string) string {
	best, bestDist := "", len(key)/3+1
	for _, k := range known {
		if d := editDistance(key, k); d < bestDist || d == bestDist && best != "" && k < best {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return best
	}
	leaf := key[strings.LastIndex(key, ".")+1:]
	for _, k := range known {
		if k[strings.LastIndex(k, ".")+1:] == leaf {
			return k
		}
	}
	return ""
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of adjacent letters.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range rb {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
