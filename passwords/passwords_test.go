package passwords_test

import (
	"errors"
	"strings"
	"testing"

	"phaseflow/passwords"
)

func codeOf(err error) string {
	var p *passwords.Problem
	if errors.As(err, &p) {
		return p.Code()
	}
	if err != nil {
		return "unexpected: " + err.Error()
	}
	return ""
}

func TestRule(t *testing.T) {
	t.Parallel()
	rule := passwords.Rule{MinLength: passwords.DefaultMinLength}
	cases := []struct{ name, password, code string }{
		{"a passphrase", "correct horse battery staple", ""},
		{"random digits are not a sequence", "482915730294857", ""},
		{"mixed words and symbols", "violet-otter-7-lantern", ""},
		{"64 characters are accepted", strings.Repeat("a1b2c3d4", 8)[:63] + "z", ""},
		{"emoji count as characters", "🐙 octopus rides a 🚲 at dawn", ""},
		{"accented letters", "Zwölf Boxkämpfer jagen Viktor", ""},
		{"14 characters are too short", "violet-otter-7", passwords.CodeTooShort},
		{"72 bytes are too long", strings.Repeat("x", 36) + strings.Repeat("y", 36), passwords.CodeTooLong},
		{"71 bytes are not too long", strings.Repeat("kiwi-", 14) + "z", ""},
		{"password123456789 is built on a breached password", "password123456789", passwords.CodeCommon},
		{"a breached password with symbols around it", "!!!sunshine2024!!!", passwords.CodeCommon},
		{"a repeated breached password", "passwordpassword", passwords.CodeCommon},
		{"one character repeated", "aaaaaaaaaaaaaaaa", passwords.CodeCommon},
		{"a short unit repeated", "abcabcabcabcabc", passwords.CodeCommon},
		{"an alphabet run", "abcdefghijklmnop", passwords.CodeCommon},
		{"a digit run", "123456789012345", passwords.CodeCommon},
		{"a keyboard run", "qwertyuiopasdfgh", passwords.CodeCommon},
		{"a keyboard run backwards", "poiuytrewqpoiuyt", passwords.CodeCommon},
		{"a listed long breached password", "1qaz2wsx3edc4rfv", passwords.CodeCommon},
		{"full-width letters normalise to a common one", passwords.Normalize("ｐａｓｓｗｏｒｄ１２３４５６７８９"), passwords.CodeCommon},
		{"case does not hide a common one", "PASSWORD123456789", passwords.CodeCommon},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := codeOf(rule.Check(c.password)); got != c.code {
				t.Fatalf("Check(%q): expected %q, got %q", c.password, c.code, got)
			}
		})
	}
}

func TestRuleMinimumIsTheOperators(t *testing.T) {
	t.Parallel()
	rule := passwords.Rule{MinLength: passwords.MinLengthFloor}
	if err := rule.Check("kiwi-lamp-9x"); err != nil {
		t.Fatalf("expected a 12-character password accepted with minimum 8, got %v", err)
	}
	if got := codeOf(rule.Check("k1w!l4m")); got != passwords.CodeTooShort {
		t.Fatalf("expected 7 characters refused, got %q", got)
	}
	if !strings.Contains(rule.Describe(), "at least 8 characters") {
		t.Fatalf("expected the description to name the minimum, got %q", rule.Describe())
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	composed, decomposed := "caf\u00e9-au-lait-matin", "cafe\u0301-au-lait-matin"
	if passwords.Normalize(composed) != passwords.Normalize(decomposed) {
		t.Fatal("expected composed and decomposed accents to normalise to the same password")
	}
	if got := passwords.Normalize("ｆｕｌｌ"); got != "full" {
		t.Fatalf("expected full-width letters folded, got %q", got)
	}
}

func TestBlocklistHoldsTheShippedLists(t *testing.T) {
	t.Parallel()
	// 279,256 entries at a 0.01% false-positive rate need about 5.35 million bits.
	if bits := passwords.BlocklistSize(); bits < 5_000_000 {
		t.Fatalf("expected a filter sized for the shipped lists, got %d bits", bits)
	}
	rule := passwords.Rule{MinLength: passwords.MinLengthFloor}
	for _, listed := range []string{"password", "qwertyuiop", "iloveyou", "sunshine", "football", "princess"} {
		if got := codeOf(rule.Check(listed)); got != passwords.CodeCommon {
			t.Fatalf("expected %q refused as common, got %q", listed, got)
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"password123456789", "correct horse battery staple", "ｐａｓｓ", "\xff\xfe", ""} {
		f.Add(s)
	}
	rule := passwords.Rule{MinLength: passwords.DefaultMinLength}
	f.Fuzz(func(t *testing.T, s string) {
		n := passwords.Normalize(s)
		if passwords.Normalize(n) != n {
			t.Fatalf("Normalize is not idempotent for %q", s)
		}
		_ = rule.Check(n) // must not panic
	})
}
