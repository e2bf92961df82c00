// Package replica is continuous replication of PocketBase's data.db with Litestream, used as a
// library inside ./app: Run ships every committed transaction to REPLICA_URL (a directory or
// S3-compatible storage) within about a second, and Restore rebuilds data.db from the replica
// into a data directory through phaseflow/restore (so restore.After runs there too).
//
// Run is meant for its own process, ./app replicate, next to ./app serve on the same data
// directory: Litestream's classic sidecar arrangement. A replicator inside the server process
// would die with it, and the last second of acknowledged writes would be lost whenever the
// server crashes or is killed; a separate process keeps shipping the WAL frames the server
// committed before it died. Only the loss of the machine (or its disk) loses anything, the
// transactions of the last sync interval.
//
// Replicas are not encrypted by PhaseFlow: Litestream 0.5 removed its age encryption and
// refuses the setting. Keep them on an encrypted volume or in a bucket with server-side
// encryption; they hold the same health data as data.db.
package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/benbjohnson/litestream"
	"github.com/benbjohnson/litestream/file"
	"github.com/benbjohnson/litestream/s3"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/config"
	"phaseflow/datadir"
	"phaseflow/restore"
)

// Timings that give a recovery point of about a second: Litestream looks at the WAL every
// MonitorInterval and uploads what is new at most every SyncInterval, so a committed
// transaction reaches the replica within about MonitorInterval + SyncInterval + one upload.
const (
	MonitorInterval = 250 * time.Millisecond
	SyncInterval    = 750 * time.Millisecond
)

// ErrEmpty is returned by Restore when the replica holds nothing to restore.
var ErrEmpty = errors.New("the replica holds no data yet (has ./app replicate run?)")

// Client returns the Litestream client of cfg's replica.
func Client(cfg config.Config) (litestream.ReplicaClient, error) {
	r := cfg.Replica
	switch r.Kind {
	case config.ReplicaFile:
		return file.NewReplicaClient(r.Path), nil
	case config.ReplicaS3:
		c := s3.NewReplicaClient()
		c.Bucket, c.Path = r.Bucket, r.Path
		c.Endpoint, c.Region = cfg.Backup.S3.Endpoint, cfg.Backup.S3.Region
		c.AccessKeyID, c.SecretAccessKey = cfg.Backup.S3.AccessKey, cfg.Backup.S3.Secret
		c.ForcePathStyle = cfg.Backup.S3.ForcePathStyle
		return c, nil
	default:
		return nil, errors.New("replication is not configured: set REPLICA_URL")
	}
}

// checkOutside refuses a directory replica inside the data directory: backups would copy it and
// a restore would move it aside with the data it should restore.
func checkOutside(app core.App, cfg config.Config) error {
	if cfg.Replica.Kind != config.ReplicaFile {
		return nil
	}
	dataDir, err := filepath.Abs(app.DataDir())
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(dataDir, cfg.Replica.Path); err == nil && !strings.HasPrefix(rel, "..") {
		return fmt.Errorf("REPLICA_URL %s is inside the data directory %s; put the replica elsewhere", cfg.Replica.URL, dataDir)
	}
	return nil
}

// Run replicates app's data.db to cfg's replica until ctx ends, then ships what is left and
// returns. It holds the data directory's shared lock, so no restore replaces the database under
// it. ready, if not nil, is called once replication runs.
func Run(ctx context.Context, app core.App, cfg config.Config, logger *slog.Logger, ready func()) error {
	if err := checkOutside(app, cfg); err != nil {
		return err
	}
	lock, err := datadir.Shared(app.DataDir())
	if err != nil {
		return err
	}
	defer lock.Release()

	client, err := Client(cfg)
	if err != nil {
		return err
	}
	client.SetLogger(logger)
	db := litestream.NewDB(filepath.Join(app.DataDir(), restore.DataDB))
	db.MonitorInterval = MonitorInterval
	r := litestream.NewReplicaWithClient(db, client)
	r.SyncInterval = SyncInterval
	db.Replica = r
	if fc, ok := client.(*file.ReplicaClient); ok {
		fc.Replica = r // the file client copies the database's owner and modes to the replica
	}
	store := litestream.NewStore([]*litestream.DB{db}, litestream.DefaultCompactionLevels)
	store.Logger = logger
	db.SetLogger(logger)
	if err := store.Open(ctx); err != nil {
		return fmt.Errorf("failed to start replication: %w", err)
	}
	// Litestream reads the database lazily on its first tick; ship the current state now, so
	// the replica is complete from the moment Run reports ready.
	if err := db.SyncAndWait(ctx); err != nil {
		_ = store.Close(context.Background())
		return fmt.Errorf("failed to ship the database to the replica: %w", err)
	}
	if ready != nil {
		ready()
	}
	<-ctx.Done()
	// Close ships the frames committed since the last sync before it returns.
	if err := store.Close(context.Background()); err != nil {
		return fmt.Errorf("failed to finish replication: %w", err)
	}
	return nil
}

// Restore replaces app's data.db with the replica's newest state, or its state at at when at is
// not zero. It refuses while a server or replicator runs on the data directory, checks the
// restored database before anything is changed, keeps auxiliary.db and storage/ (a replica holds
// data.db only) and runs restore.After.
func Restore(ctx context.Context, app core.App, cfg config.Config, at time.Time, logger *slog.Logger) error {
	client, err := Client(cfg)
	if err != nil {
		return err
	}
	if err := checkOutside(app, cfg); err != nil {
		return err
	}
	st, err := restore.Begin(app)
	if err != nil {
		return err
	}
	defer st.Close()

	client.SetLogger(logger)
	if err := client.Init(ctx); err != nil {
		return fmt.Errorf("failed to reach the replica: %w", err)
	}
	r := litestream.NewReplicaWithClient(nil, client)
	opt := litestream.NewRestoreOptions()
	opt.OutputPath = filepath.Join(st.New(), restore.DataDB)
	opt.Timestamp = at
	if err := r.Restore(ctx, opt); err != nil {
		if errors.Is(err, litestream.ErrNoSnapshots) || errors.Is(err, litestream.ErrTxNotAvailable) {
			return ErrEmpty
		}
		return fmt.Errorf("failed to restore from the replica: %w", err)
	}
	if err := restore.CheckDatabase(ctx, opt.OutputPath); err != nil {
		return err
	}
	return st.Replace(cfg, restore.Database)
}
