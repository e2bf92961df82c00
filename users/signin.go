package users

import (
	"database/sql"
	"errors"
	"maps"
	"net/http"
	"strings"

	"github.com/pocketbase/pocketbase/core"

	"phaseflow/internal/reqbody"
)

// Sign-in refusals, as the people who get them read them.
const (
	MsgNoVerifiedEmail  = "The identity provider did not return a verified email address. Ask the operator to mark your email as verified at the identity provider."
	MsgNoAccount        = "No account for this identity. Ask the operator to create an account for your email address."
	MsgLinkedElsewhere  = "This account is already linked to a different identity at the identity provider. Ask the operator to unlink it (./app oidc unlink EMAIL)."
	MsgNeedsSecondStep  = "This account needs a second factor, which this server cannot send right now. Sign in with the identity provider instead."
	MsgAwaitingApproval = "This account is waiting for approval by an administrator."
	// MsgCreatedAwaitingApproval answers the sign-in that just created the account (sign-up, a
	// first OAuth2 sign-in) while registration needs approval: the sign-up worked, the sign-in
	// has to wait.
	MsgCreatedAwaitingApproval = "Your account has been created and is waiting for approval by an administrator. You can sign in once it is approved."
)

// MsgLinkedElsewhereOther is MsgLinkedElsewhere for a provider other than Pocket-ID, whose links
// ./app oidc unlink does not remove.
const MsgLinkedElsewhereOther = "This account is already linked to a different identity at this provider. Ask the operator to unlink it (admin UI: the account's row in _externalAuths)."

// providerTokenKeys are the identity provider's own tokens that PocketBase copies into the auth
// response meta. The browser needs only PhaseFlow's token, so they never leave the server.
var providerTokenKeys = []string{"accessToken", "refreshToken", "expiry"}

// CheckOAuth2SignIn is the OAuth2 sign-in policy, an OnRecordAuthWithOAuth2Request handler:
// sign-up data comes from the identity provider only, an unknown identity gets an account only
// with open registration, and an account linked to another identity of the same provider gets a
// clear answer. After a successful sign-in the account takes the provider's name.
func CheckOAuth2SignIn(e *core.RecordAuthWithOAuth2RequestEvent, openRegistration bool) error {
	// A client-chosen email would create an unverified account for someone else's address.
	e.CreateData = nil
	if e.Record == nil {
		if e.OAuth2User == nil || e.OAuth2User.Email == "" {
			return e.ForbiddenError(MsgNoVerifiedEmail, nil)
		}
		if !openRegistration {
			return e.ForbiddenError(MsgNoAccount, nil)
		}
	} else if err := checkExistingLink(e); err != nil {
		return err
	}
	if err := e.Next(); err != nil {
		return err
	}
	// Only a sign-in that went through may change the account.
	if e.ProviderName == OIDCProvider && e.OAuth2User != nil && e.OAuth2User.Name != "" &&
		e.Record.GetString(FieldName) != e.OAuth2User.Name {
		updateName(e.App, e.Record, e.OAuth2User.Name)
	}
	return nil
}

// checkExistingLink gives a clear error when the account is already linked to another identity
// of the same provider (for example after the identity provider's data was recreated and the
// person got a new subject id); PocketBase would answer only "Failed to authenticate.".
func checkExistingLink(e *core.RecordAuthWithOAuth2RequestEvent) error {
	if e.OAuth2User == nil {
		return nil
	}
	links, err := e.App.FindAllExternalAuthsByRecord(e.Record)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return e.InternalServerError("", err)
	}
	for _, l := range links {
		if l.Provider() == e.ProviderName && l.ProviderId() != e.OAuth2User.Id {
			if e.ProviderName != OIDCProvider {
				return e.BadRequestError(MsgLinkedElsewhereOther, nil)
			}
			return e.BadRequestError(MsgLinkedElsewhere, nil)
		}
	}
	return nil
}

// updateName writes the identity provider's name to a freshly read copy of the record, so no
// other column of the possibly older in-memory record is written back. A failure is logged: the
// sign-in itself already succeeded.
func updateName(app core.App, r *core.Record, name string) {
	fresh, err := app.FindRecordById(Collection, r.Id)
	if err == nil {
		fresh.Set(FieldName, name)
		err = app.Save(fresh)
	}
	if err != nil {
		app.Logger().Warn("Failed to update the name from the identity provider", "user", r.Id, "error", err.Error())
		return
	}
	r.Set(FieldName, name)
}

// CheckSignIn is the policy every sign-in of a users account passes after its credentials were
// accepted, an OnRecordAuthRequest handler: an account that asked for a second factor is never
// let in with one factor while mail (the second factor) is unavailable (a password, an email
// code, or an OAuth2 provider other than the exempt OIDC one), an account that is not
// approved is refused (waiting for approval, or suspended by a superuser who unticked approved;
// a superuser may still impersonate it, to help its owner), and the identity provider's own
// tokens are removed from the response.
func CheckSignIn(e *core.RecordAuthRequestEvent) error {
	if e.Record.GetBool(FieldMFA) && !e.Collection.MFA.Enabled {
		switch {
		case e.AuthMethod == core.MFAMethodPassword || e.AuthMethod == core.MFAMethodOTP:
			return e.ForbiddenError(MsgNeedsSecondStep, nil)
		case e.AuthMethod == core.MFAMethodOAuth2 && oauth2Provider(e) != OIDCProvider:
			// As DefaultMFARule: only the OIDC provider (Pocket-ID, a passkey) is a sign-in on
			// its own; GitHub, Google … are one factor like a password.
			return e.ForbiddenError(needsSecondStepMessage(e.Collection), nil)
		}
	}
	if !e.Record.GetBool(FieldApproved) && !e.HasSuperuserAuth() {
		if newAccount(e) {
			return e.ForbiddenError(MsgCreatedAwaitingApproval, nil)
		}
		return e.ForbiddenError(MsgAwaitingApproval, nil)
	}
	if meta, ok := e.Meta.(map[string]any); ok {
		meta = maps.Clone(meta)
		for _, k := range providerTokenKeys {
			delete(meta, k)
		}
		e.Meta = meta
	}
	return e.Next()
}

// newAccount reports whether the sign-in of e created its account, as its meta says: PocketBase
// sets "isNew" for an OAuth2 sign-in, PhaseFlow's sign-up for the account it creates.
func newAccount(e *core.RecordAuthRequestEvent) bool {
	meta, ok := e.Meta.(map[string]any)
	return ok && meta[MetaIsNew] == true
}

// MetaIsNew is the auth response meta key that says the sign-in created the account (PocketBase's
// name for it in OAuth2 sign-ins).
const MetaIsNew = "isNew"

// oauth2Provider is the provider name of an OAuth2 sign-in ("" for other methods). PocketBase
// checked it against the collection's providers before the sign-in got here.
func oauth2Provider(e *core.RecordAuthRequestEvent) string {
	name, err := reqbody.String(e.RequestEvent, "provider")
	if err != nil {
		return ""
	}
	return name
}

// needsSecondStepMessage refuses an OAuth2 sign-in that is not exempt from the second factor
// while mail, the second factor, is unavailable, and names the provider that is exempt.
func needsSecondStepMessage(col *core.Collection) string {
	msg := "This account needs a second factor, which this server cannot send right now, so this sign-in method alone is not enough."
	if pc, ok := col.OAuth2.GetProviderConfig(OIDCProvider); ok && pc.DisplayName != "" {
		return msg + " Sign in with " + pc.DisplayName + " instead."
	}
	return msg + " Ask the operator of this PhaseFlow."
}

// IgnoreAuthOnOAuth2 drops the caller's token on the OAuth2 sign-in endpoint, a router
// middleware. PocketBase would otherwise link the OAuth2 identity to the signed-in account:
// anyone holding a stolen token could attach their own identity-provider login to it, and a
// shared browser would do it by accident. PhaseFlow links identities only by verified email.
func IgnoreAuthOnOAuth2(e *core.RequestEvent) error {
	if e.Request.Method == http.MethodPost && strings.HasSuffix(e.Request.URL.Path, "/auth-with-oauth2") {
		e.Auth = nil
	}
	return e.Next()
}

// UnlinkOIDC removes the account's links to the oidc provider, so its next OIDC sign-in links the
// current identity by verified email, and ends the account's sessions (the old identity may have
// started them). It returns the account and how many links were removed.
func UnlinkOIDC(app core.App, email string) (*core.Record, int, error) {
	user, err := app.FindAuthRecordByEmail(Collection, email)
	if err != nil {
		return nil, 0, err
	}
	n := 0
	err = app.RunInTransaction(func(tx core.App) error {
		links, err := tx.FindAllExternalAuthsByRecord(user)
		if err != nil {
			return err
		}
		for _, l := range links {
			if l.Provider() != OIDCProvider {
				continue
			}
			if err := tx.Delete(l); err != nil {
				return err
			}
			n++
		}
		user.RefreshTokenKey()
		return tx.Save(user)
	})
	if err != nil {
		return nil, 0, err
	}
	return user, n, nil
}

// SecondFactorUsed reports whether the sign-in of e completes a second factor: its mfaId names
// a live MFA record of this account (PocketBase ignores an mfaId it does not need, so the body
// alone proves nothing). It must be asked before e.Next(), which consumes the record.
func SecondFactorUsed(e *core.RecordAuthRequestEvent) bool {
	// Where PocketBase reads it: the query first, then the body.
	id := e.Request.URL.Query().Get("mfaId")
	if id == "" {
		id, _ = reqbody.String(e.RequestEvent, "mfaId")
	}
	if id == "" {
		return false
	}
	m, err := e.App.FindMFAById(id)
	return err == nil && m.RecordRef() == e.Record.Id && m.CollectionRef() == e.Record.Collection().Id &&
		!m.HasExpired(e.Record.Collection().MFA.DurationTime())
}
