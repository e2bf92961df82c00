package backup

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"filippo.io/age"
)

// EncryptedSuffix ends the name of every encrypted archive: "x.zip" is stored as "x.zip.age".
const EncryptedSuffix = ".age"

// ageMagic starts every age file (age-encryption.org/v1).
const ageMagic = "age-encryption.org/v1\n"

// Errors of decryption; their messages are meant for the operator.
var (
	// ErrWrongKey is returned when the archive was encrypted for a different key.
	ErrWrongKey = errors.New("the archive is encrypted for a different key: BACKUP_ENCRYPTION_KEY (or --identity) is not the identity it was encrypted to")
	// ErrNoIdentity is returned for an encrypted archive when no identity is configured.
	ErrNoIdentity = errors.New("the archive is encrypted: set BACKUP_ENCRYPTION_KEY to its age identity (AGE-SECRET-KEY-…) or pass --identity FILE")
)

// Keys are what BACKUP_ENCRYPTION_KEY gives: the recipient archives are encrypted to and, when
// the variable holds an identity, the identity that decrypts them. Both are nil without a key.
type Keys struct {
	Recipient age.Recipient
	Identity  age.Identity
}

// Encrypts reports whether archives are encrypted.
func (k Keys) Encrypts() bool { return k.Recipient != nil }

// ParseKey reads an age identity (AGE-SECRET-KEY-1… X25519, AGE-SECRET-KEY-PQ-1… post-quantum
// hybrid), whose recipient it derives, or a recipient alone (age1…, age1pq1…). An empty key gives
// empty Keys. Errors never contain the key.
func ParseKey(key string) (Keys, error) {
	switch {
	case key == "":
		return Keys{}, nil
	case strings.HasPrefix(key, "AGE-SECRET-KEY-"):
		ids, err := age.ParseIdentities(strings.NewReader(key))
		if err != nil || len(ids) != 1 {
			return Keys{}, errors.New("BACKUP_ENCRYPTION_KEY is not a valid age identity")
		}
		switch id := ids[0].(type) {
		case *age.X25519Identity:
			return Keys{Recipient: id.Recipient(), Identity: id}, nil
		case *age.HybridIdentity:
			return Keys{Recipient: id.Recipient(), Identity: id}, nil
		default:
			return Keys{}, errors.New("BACKUP_ENCRYPTION_KEY is an unsupported age identity type")
		}
	default:
		rs, err := age.ParseRecipients(strings.NewReader(key))
		if err != nil || len(rs) != 1 {
			return Keys{}, errors.New("BACKUP_ENCRYPTION_KEY is not a valid age recipient")
		}
		return Keys{Recipient: rs[0]}, nil
	}
}

// ReadIdentities reads an age identity file (age-keygen's format: one identity per line, #
// comments).
func ReadIdentities(path string) ([]age.Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("failed to open the identity file: %w", err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, fmt.Errorf("failed to read the identity file %s: %w", path, err)
	}
	return ids, nil
}

// NewIdentity returns a new post-quantum hybrid age identity (ML-KEM-768 + X25519, age v1.3's
// recommended key) and its recipient, as ./app backup keygen prints them.
func NewIdentity() (identity, recipient string, err error) {
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		return "", "", err
	}
	return id.String(), id.Recipient().String(), nil
}

// Encrypt writes src encrypted to r into dst.
func Encrypt(dst io.Writer, src io.Reader, r age.Recipient) error {
	w, err := age.Encrypt(dst, r)
	if err != nil {
		return fmt.Errorf("failed to start encryption: %w", err)
	}
	if _, err := io.Copy(w, src); err != nil {
		return fmt.Errorf("failed to encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("failed to finish encryption: %w", err)
	}
	return nil
}

// Decrypt writes the plaintext of the age file src into dst. It fails with ErrNoIdentity without
// identities and ErrWrongKey when none of them matches; a damaged file fails too (age
// authenticates every 64 KiB chunk).
func Decrypt(dst io.Writer, src io.Reader, ids ...age.Identity) error {
	if len(ids) == 0 {
		return ErrNoIdentity
	}
	r, err := age.Decrypt(src, ids...)
	var noMatch *age.NoIdentityMatchError
	if errors.As(err, &noMatch) {
		return ErrWrongKey
	}
	if err != nil {
		return fmt.Errorf("failed to decrypt the archive: %w", err)
	}
	if _, err := io.Copy(dst, r); err != nil {
		return fmt.Errorf("failed to decrypt the archive (is it damaged?): %w", err)
	}
	return nil
}

// IsEncrypted reports whether the file at path is an age file.
func IsEncrypted(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head, err := bufio.NewReader(f).Peek(len(ageMagic))
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	return string(head) == ageMagic, nil
}
