// Package key is how the password blocklist compares entries, shared by the package that checks
// passwords and the generator that builds the list (which cannot import the checker: it embeds
// the generator's output).
package key

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// MinEntryLength is the shortest blocklist entry kept.
const MinEntryLength = 3

// FalsePositiveRate is the blocklist filter's chance to refuse a password it does not hold.
const FalsePositiveRate = 0.0001

// Of returns the comparison key of s: NFKC-normalised, lower case, without spaces at either end.
func Of(s string) string {
	return strings.ToLower(strings.TrimSpace(norm.NFKC.String(s)))
}
