package apptest

import (
	"io"
	"net/http/httptest"
	"sort"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"phaseflow/config"
)

// FakeS3 is an in-memory S3-compatible server (gofakes3) on 127.0.0.1 with the given buckets.
type FakeS3 struct {
	URL     string
	backend *s3mem.Backend
}

// StartS3 starts a FakeS3 that stops when the test ends.
func StartS3(t testing.TB, buckets ...string) *FakeS3 {
	t.Helper()
	backend := s3mem.New()
	for _, b := range buckets {
		if err := backend.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(gofakes3.New(backend, gofakes3.WithIntegrityCheck(true)).Server())
	t.Cleanup(srv.Close)
	return &FakeS3{URL: srv.URL, backend: backend}
}

// Config is the BACKUP_S3_* configuration for bucket on this server.
func (s *FakeS3) Config(bucket string) config.S3 {
	return config.S3{
		Endpoint: s.URL, Bucket: bucket, Region: "us-east-1", AccessKey: "test-access-key", Secret: "test-secret-key",
		ForcePathStyle: true,
	}
}

// Keys lists the object keys in bucket, sorted.
func (s *FakeS3) Keys(t testing.TB, bucket string) []string {
	t.Helper()
	list, err := s.backend.ListBucket(bucket, &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range list.Contents {
		keys = append(keys, c.Key)
	}
	sort.Strings(keys)
	return keys
}

// Object returns the content of an object.
func (s *FakeS3) Object(t testing.TB, bucket, key string) []byte {
	t.Helper()
	obj, err := s.backend.GetObject(bucket, key, nil)
	if err != nil {
		t.Fatalf("failed to read s3://%s/%s: %v", bucket, key, err)
	}
	defer obj.Contents.Close()
	b, err := io.ReadAll(obj.Contents)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
