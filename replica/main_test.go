package replica_test

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	// The AWS SDK under Litestream's S3 client refuses AWS_CA_BUNDLE together with the HTTP
	// client Litestream gives it ("unable to add custom RootCAs"); some machines set it
	// globally. The fake S3 server is plain http on 127.0.0.1 and needs no CA.
	os.Unsetenv("AWS_CA_BUNDLE")
	os.Exit(m.Run())
}
