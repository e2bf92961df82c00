package sessions_test

import (
	"errors"
	"testing"
	"time"

	"github.com/pocketbase/dbx"

	"phaseflow/internal/apptest"
	"phaseflow/sessions"
)

func TestDeviceLabel(t *testing.T) {
	t.Parallel()
	cases := []struct{ ua, want string }{
		{"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iOS"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on Windows"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome on Android"},
		{"", "Unknown device"},
	}
	for _, c := range cases {
		if got := sessions.DeviceLabel(c.ua); got != c.want {
			t.Fatalf("DeviceLabel(%q): expected %q, got %q", c.ua, c.want, got)
		}
	}
}

func TestSessionEnds(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s := sessions.Session{IdleExpires: now.Add(time.Hour), Expires: now.Add(30 * time.Minute)}
	if !s.Ends().Equal(now.Add(30*time.Minute)) || !s.Live(now) || s.Live(now.Add(30*time.Minute)) {
		t.Fatalf("expected the absolute expiry to win, got %v", s.Ends())
	}
	s.Expires = now.Add(2 * time.Hour)
	if !s.Ends().Equal(now.Add(time.Hour)) || s.Live(now.Add(time.Hour)) {
		t.Fatalf("expected the idle expiry to win, got %v", s.Ends())
	}
}

func TestCheckAndTheCache(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	app := apptest.NewApp(t, cfg)
	lt := sessions.LifetimesFromDays(cfg.SessionDays, cfg.SessionMaxDays)
	ana := apptest.CreateUser(t, app, "ana@example.com")
	now := time.Now()
	s, err := sessions.Create(app, lt, ana, sessions.New{Method: "password", UserAgent: "test"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sessions.Check(app, ana.Id, s.ID, now); err != nil {
		t.Fatalf("expected a live session, got %v", err)
	}
	if _, err := sessions.Check(app, "someoneelse1234", s.ID, now); !errors.Is(err, sessions.ErrEnded) {
		t.Fatalf("expected another account's check to fail, got %v", err)
	}

	// Another process deletes the row behind the cache's back.
	if _, err := app.DB().Delete(sessions.Collection, dbx.HashExp{"id": s.ID}).Execute(); err != nil {
		t.Fatal(err)
	}
	if _, err := sessions.Check(app, ana.Id, s.ID, now.Add(5*time.Second)); err != nil {
		t.Fatalf("expected the cached session within the TTL, got %v", err)
	}
	if _, err := sessions.Check(app, ana.Id, s.ID, now.Add(11*time.Second)); !errors.Is(err, sessions.ErrEnded) {
		t.Fatalf("expected the row read again after the TTL, got %v", err)
	}

	t.Run("Forget takes effect at once", func(t *testing.T) {
		s2, err := sessions.Create(app, lt, ana, sessions.New{Method: "password"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.DB().Delete(sessions.Collection, dbx.HashExp{"id": s2.ID}).Execute(); err != nil {
			t.Fatal(err)
		}
		sessions.Forget(app, s2.ID)
		if _, err := sessions.Check(app, ana.Id, s2.ID, now); !errors.Is(err, sessions.ErrEnded) {
			t.Fatalf("expected the forgotten session refused, got %v", err)
		}
	})

	t.Run("Touch writes at most once a minute and never past the absolute expiry", func(t *testing.T) {
		s3, err := sessions.Create(app, lt, ana, sessions.New{Method: "password"}, now)
		if err != nil {
			t.Fatal(err)
		}
		same, _ := sessions.Touch(app, lt, s3, now.Add(30*time.Second), false)
		if !same.LastSeen.Equal(s3.LastSeen) {
			t.Fatalf("expected no write within a minute, got %v", same.LastSeen)
		}
		day13 := now.Add(13 * 24 * time.Hour)
		moved, err := sessions.Touch(app, lt, s3, day13, false)
		if err != nil || !moved.IdleExpires.Equal(day13.Add(lt.Idle)) {
			t.Fatalf("expected the idle expiry slid to %v, got %+v (%v)", day13.Add(lt.Idle), moved, err)
		}
		day26 := now.Add(26 * 24 * time.Hour)
		capped, err := sessions.Touch(app, lt, moved, day26, false)
		if err != nil || !capped.IdleExpires.Equal(s3.Expires) {
			t.Fatalf("expected the idle expiry capped at the absolute %v, got %+v (%v)", s3.Expires, capped, err)
		}
		stored, _ := sessions.Find(app, s3.ID)
		if !stored.IdleExpires.Equal(s3.Expires.UTC().Truncate(time.Millisecond)) {
			t.Fatalf("expected the stored idle expiry %v, got %v", s3.Expires, stored.IdleExpires)
		}
		if _, err := sessions.Touch(app, lt, capped, s3.Expires.Add(time.Minute), true); !errors.Is(err, sessions.ErrEnded) {
			t.Fatalf("expected a touch after the absolute expiry to find the session ended, got %v", err)
		}
	})

	t.Run("a touch never revives a deleted session", func(t *testing.T) {
		s4, err := sessions.Create(app, lt, ana, sessions.New{Method: "password"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := sessions.End(app, ana.Id, s4.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := sessions.Touch(app, lt, s4, now.Add(2*time.Minute), true); !errors.Is(err, sessions.ErrEnded) {
			t.Fatalf("expected ErrEnded, got %v", err)
		}
		if _, err := sessions.Check(app, ana.Id, s4.ID, now.Add(2*time.Minute)); !errors.Is(err, sessions.ErrEnded) {
			t.Fatalf("expected the ended session to stay ended, got %v", err)
		}
	})

	t.Run("DeleteExpired removes only ended rows", func(t *testing.T) {
		n, err := sessions.DeleteExpired(app, now.Add(lt.Absolute+time.Hour))
		if err != nil || n != 1 { // the one row left, s3's; the others were deleted above
			t.Fatalf("expected 1 ended row removed, got %d (%v)", n, err)
		}
		if left, _ := app.CountRecords(sessions.Collection); left != 0 {
			t.Fatalf("expected no rows left, got %d", left)
		}
	})
}
