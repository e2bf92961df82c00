// Command gen builds PhaseFlow's password blocklist: a Bloom filter of the common and breached
// passwords, words and names that the zxcvbn package ships in its data directory
// (github.com/trustelem/zxcvbn, from the lists of the original zxcvbn: passwords from breach
// corpuses, the most frequent English words, first names, surnames, TV and film words). The
// Makefile runs it before every build; its output is a build artifact and never committed.
//
//	go run ./passwords/gen -data "$(go list -m -f '{{.Dir}}' github.com/trustelem/zxcvbn)/data" -o passwords/blocklist.bloom
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bits-and-blooms/bloom/v3"
	// Keeps the module (and its data directory) in go.mod; the generator reads the files.
	_ "github.com/trustelem/zxcvbn/frequency"

	"phaseflow/passwords/internal/key"
)

// lists are the data files read, each "entry [count]" per line.
var lists = []string{"passwords.txt", "english_wikipedia.txt", "female_names.txt", "male_names.txt", "surnames.txt", "us_tv_and_film.txt"}

func main() {
	dataDir := flag.String("data", "", "the zxcvbn module's data directory")
	out := flag.String("o", "passwords/blocklist.bloom", "output file")
	flag.Parse()
	if err := run(*dataDir, *out); err != nil {
		fmt.Fprintln(os.Stderr, "passwords/gen:", err)
		os.Exit(1)
	}
}

func run(dataDir, out string) error {
	if dataDir == "" {
		return fmt.Errorf("-data is required")
	}
	var entries []string
	for _, name := range lists {
		f, err := os.Open(filepath.Join(dataDir, name))
		if err != nil {
			return fmt.Errorf("failed to open a list: %w", err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) == 0 {
				continue
			}
			if e := key.Of(fields[0]); len(e) >= key.MinEntryLength {
				entries = append(entries, e)
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return fmt.Errorf("failed to read %s: %w", name, err)
		}
	}
	filter := bloom.NewWithEstimates(uint(len(entries)), key.FalsePositiveRate)
	for _, e := range entries {
		filter.AddString(e)
	}
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := filter.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("failed to write the filter: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "passwords/gen: %d entries into %s (false positives %.4f%%)\n", len(entries), out, key.FalsePositiveRate*100)
	return os.Rename(tmp, out)
}
