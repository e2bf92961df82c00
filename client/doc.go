// Package client is a Go client for PhaseFlow's HTTP API: PocketBase's sign-in endpoints under
// /api/collections/{collection}/ and PhaseFlow's own /api/user routes.
//
// A Client holds its auth token in memory only. The token is never written to disk, never
// logged, and never part of an error or of the Client's printed form; it lives as long as the
// Client. Before every authenticated call the Client refreshes a token that expires within
// DefaultRefreshThreshold (see WithRefreshThreshold); impersonation tokens, which the server
// marks as not refreshable, are used as they are.
//
// Every answer outside 2xx is an *Error carrying PocketBase's status, message and field errors,
// except a first factor that needs a second one, which is an *MFARequiredError:
//
//	c, err := client.New("https://phaseflow.example.com")
//	if err != nil {
//		return err
//	}
//	_, err = c.AuthWithPassword(ctx, "ana@example.com", password)
//	var mfa *client.MFARequiredError
//	if errors.As(err, &mfa) {
//		otpID, err := c.RequestOTP(ctx, "ana@example.com")
//		// ... read the code from the mail, then:
//		_, err = c.AuthWithOTP(ctx, otpID, code, client.WithMFA(mfa.MFAID))
//	}
//	profile, err := c.User(ctx)
//	_, err = c.UpdateUser(ctx, client.ProfilePatch{CycleLength: new(30)})
//
// A Client is safe for concurrent use.
package client
