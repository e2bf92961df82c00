// Package passwords is PhaseFlow's password rule, after NIST SP 800-63B-4: a minimum length
// (PASSWORD_MIN_LENGTH, 15 by default, 8 at the least), at least 64 characters accepted, no more
// than 71 bytes (bcrypt would silently cut the rest), no composition rules, Unicode normalised
// (NFKC) before it is hashed or compared, and refused when it is, or is built on, a common or
// breached password (a Bloom filter of over 280,000 entries built into the binary). It is pure Go:
// no PocketBase.
package passwords

import (
	"bytes"
	_ "embed"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/bits-and-blooms/bloom/v3"
	"golang.org/x/text/unicode/norm"

	"phaseflow/passwords/internal/key"
)

// Bounds of the rule.
const (
	// DefaultMinLength is NIST's minimum for a password that is the only factor.
	DefaultMinLength = 15
	// MinLengthFloor is the shortest minimum an operator may configure.
	MinLengthFloor = 8
	// MaxBytes is bcrypt's limit: longer input is silently truncated, so it is refused.
	MaxBytes = 71
)

// Problem codes, in PocketBase's validation_* style.
const (
	CodeTooShort = "validation_password_too_short"
	CodeTooLong  = "validation_password_too_long"
	CodeCommon   = "validation_password_common"
)

// Problem is why a password is refused. Its Code and Error methods are what PocketBase's API
// renders as {"code", "message"}.
type Problem struct {
	code    string
	message string
}

// Code returns the machine-readable code.
func (p *Problem) Code() string { return p.code }

// Error returns the message for people, a full sentence.
func (p *Problem) Error() string { return p.message }

// Rule is the password rule with the operator's minimum length.
type Rule struct {
	MinLength int
}

// Describe says the rule in one sentence, for the page that asks for a password.
func (r Rule) Describe() string {
	return "Use at least " + strconv.Itoa(r.MinLength) + " characters, up to about 70. Any characters work, spaces included; a few unrelated words are easy to remember. Common passwords are refused."
}

// Normalize returns p in Unicode normal form NFKC, so the same password typed on two keyboards
// (composed or decomposed accents, full-width letters) is the same password.
func Normalize(p string) string {
	return norm.NFKC.String(p)
}

// Check returns nil when the (normalised) password p follows the rule, else the problem.
func (r Rule) Check(p string) error {
	switch {
	case len(p) > MaxBytes:
		return &Problem{CodeTooLong, "Use at most 71 bytes (71 plain letters, fewer with accents or emoji): a longer password would be cut off."}
	case utf8.RuneCountInString(p) < r.MinLength:
		return &Problem{CodeTooShort, "Use at least " + strconv.Itoa(r.MinLength) + " characters."}
	case common(p):
		return &Problem{CodeCommon, "This password is too common or too easy to guess. Try a few unrelated words."}
	}
	return nil
}

// common reports whether p is, or is built on, a common password: a blocklist entry, one
// repeated, one with digits or symbols around it, or a run of repeated or sequential characters.
func common(p string) bool {
	l := key.Of(p)
	if listed(l) || repetitive(l) || sequential(l) {
		return true
	}
	core := strings.TrimFunc(l, func(r rune) bool { return !unicode.IsLetter(r) })
	if core != l && utf8.RuneCountInString(core) >= key.MinEntryLength {
		if listed(core) || repetitive(core) || sequential(core) {
			return true
		}
	}
	if unit := repeatedUnit(l); unit != "" && (listed(unit) || utf8.RuneCountInString(unit) <= 3) {
		return true
	}
	// Digits and symbols alone: only runs and repetitions are common (random digits are not).
	return false
}

//go:embed blocklist.bloom
var blocklistData []byte

var (
	blocklistOnce sync.Once
	blocklist     *bloom.BloomFilter
)

// listed reports whether the filter holds s.
func listed(s string) bool {
	blocklistOnce.Do(func() {
		f := &bloom.BloomFilter{}
		if _, err := f.ReadFrom(bytes.NewReader(blocklistData)); err != nil {
			// The filter is built and embedded at build time; a broken one is a build bug.
			panic("passwords: the embedded blocklist is unreadable: " + err.Error())
		}
		blocklist = f
	})
	return blocklist.TestString(s)
}

// BlocklistSize reports how many bits the embedded filter has (for tests and the README).
func BlocklistSize() uint {
	listed("")
	return blocklist.Cap()
}

// repetitive reports whether s is one character repeated.
func repetitive(s string) bool {
	first, size := utf8.DecodeRuneInString(s)
	return size > 0 && strings.Count(s, string(first)) == utf8.RuneCountInString(s)
}

// repeatedUnit returns u when s is u repeated twice or more, else "".
func repeatedUnit(s string) string {
	rs := []rune(s)
	for n := 1; n <= len(rs)/2; n++ {
		if len(rs)%n != 0 {
			continue
		}
		if strings.Repeat(string(rs[:n]), len(rs)/n) == s {
			return string(rs[:n])
		}
	}
	return ""
}

// keyboardRuns are sequences people type as passwords.
var keyboardRuns = []string{
	"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "qwertyuiopasdfghjklzxcvbnm", "qwertzuiopasdfghjklyxcvbnm", "azertyuiopqsdfghjklmwxcvbn",
	"qazwsxedcrfvtgbyhnujmikolp",
	"1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "q1w2e3r4t5y6u7i8o9p0",
}

// sequential reports whether s is a run of consecutive characters (abcd…, 9876…), or part of a
// keyboard run forwards or backwards (repeated runs included).
func sequential(s string) bool {
	rs := []rune(s)
	if len(rs) < 3 {
		return false
	}
	up, down := true, true
	for i := 1; i < len(rs); i++ {
		up = up && rs[i] == rs[i-1]+1
		down = down && rs[i] == rs[i-1]-1
	}
	if up || down {
		return true
	}
	for _, run := range keyboardRuns {
		long := strings.Repeat(run, 8)
		if strings.Contains(long, s) || strings.Contains(reverse(long), s) {
			return true
		}
	}
	return false
}

func reverse(s string) string {
	rs := []rune(s)
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return string(rs)
}
