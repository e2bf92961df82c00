package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"phaseflow/client"
)

// The example signs in with a password, finishes a second factor when the account has one, and
// updates the profile.
func Example() {
	ctx := context.Background()
	c, err := client.New("https://phaseflow.example.com")
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.AuthWithPassword(ctx, "ana@example.com", "correct-horse-battery")
	var mfa *client.MFARequiredError
	if errors.As(err, &mfa) {
		otpID, err := c.RequestOTP(ctx, "ana@example.com")
		if err != nil {
			log.Fatal(err)
		}
		code := "12345678" // from the mail
		_, err = c.AuthWithOTP(ctx, otpID, code, client.WithMFA(mfa.MFAID))
		if err != nil {
			log.Fatal(err)
		}
	} else if err != nil {
		log.Fatal(err)
	}

	p, err := c.UpdateUser(ctx, client.ProfilePatch{CycleLength: new(30), Timezone: new("Europe/Berlin")})
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		for field, fe := range apiErr.Data {
			fmt.Printf("%s: %s\n", field, fe.Message)
		}
		return
	} else if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.CycleLength, p.Timezone)
}

// Impersonate gives a superuser a Client that acts as one user, for support.
func ExampleClient_Impersonate() {
	ctx := context.Background()
	admin, err := client.New("https://phaseflow.example.com")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := admin.AuthSuperuser(ctx, "root@example.com", "root-password-123"); err != nil {
		log.Fatal(err)
	}
	ana, err := admin.Impersonate(ctx, "abcdefghijklmno", 0)
	if err != nil {
		log.Fatal(err)
	}
	status, err := ana.Cycle(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(status.Phase)
}
