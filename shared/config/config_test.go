package config

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/werun-sam/werun-sam/internal/services"
)

func TestSecret(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    string
		wantErr error
	}{
		{"direct value is used", map[string]string{"APP_SECRET": "s3cr3t"}, "s3cr3t", nil},
		{"direct value wins over param", map[string]string{"APP_SECRET": "s3cr3t", "APP_SECRET_PARAM": "/nowhere"}, "s3cr3t", nil},
		{"neither set is missing", nil, "", ErrMissing},
		{"empty values count as unset", map[string]string{"APP_SECRET": "", "APP_SECRET_PARAM": ""}, "", ErrMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("APP_SECRET", "")
			t.Setenv("APP_SECRET_PARAM", "")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got, err := Secret(context.Background(), "APP_SECRET")
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Fatalf("Secret = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestMissingErrorNamesBothVariables(t *testing.T) {
	t.Setenv("APP_SECRET", "")
	t.Setenv("APP_SECRET_PARAM", "")
	_, err := Secret(context.Background(), "APP_SECRET")
	var me *MissingError
	if !errors.As(err, &me) {
		t.Fatalf("err = %v, want *MissingError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "APP_SECRET or APP_SECRET_PARAM") {
		t.Fatalf("message %q does not say which variables to set", msg)
	}
}

func TestPlainVars(t *testing.T) {
	t.Setenv("X_DUR", "")
	t.Setenv("X_INT", "")
	t.Setenv("X_STR", "")
	if d, err := Duration("X_DUR", time.Hour); d != time.Hour || err != nil {
		t.Errorf("unset duration = %v, %v; want default", d, err)
	}
	if n, err := Int("X_INT", 10000); n != 10000 || err != nil {
		t.Errorf("unset int = %v, %v; want default", n, err)
	}
	if s := Env("X_STR", "def"); s != "def" {
		t.Errorf("unset string = %q; want default", s)
	}
	if _, err := Required("X_STR"); !errors.Is(err, ErrMissing) {
		t.Errorf("Required unset = %v; want ErrMissing", err)
	}

	t.Setenv("X_DUR", "90s")
	t.Setenv("X_INT", "8000")
	t.Setenv("X_STR", "v")
	if d, err := Duration("X_DUR", time.Hour); d != 90*time.Second || err != nil {
		t.Errorf("set duration = %v, %v", d, err)
	}
	if n, err := Int("X_INT", 10000); n != 8000 || err != nil {
		t.Errorf("set int = %v, %v", n, err)
	}
	if s, err := Required("X_STR"); s != "v" || err != nil {
		t.Errorf("Required set = %q, %v", s, err)
	}

	for _, bad := range []string{"1 hour", "-1m", "0s"} {
		t.Setenv("X_DUR", bad)
		if _, err := Duration("X_DUR", time.Hour); !errors.Is(err, ErrInvalid) {
			t.Errorf("Duration(%q) err = %v; want ErrInvalid", bad, err)
		}
	}
	t.Setenv("X_INT", "ten")
	if _, err := Int("X_INT", 1); !errors.Is(err, ErrInvalid) {
		t.Errorf("Int(ten) err = %v; want ErrInvalid", err)
	}
}

func TestListSplitsAtCommas(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  []string
	}{
		{"", nil},
		{" , ,", nil},
		{"a.example.com", []string{"a.example.com"}},
		{" a.example.com, .b.example.com ,,c", []string{"a.example.com", ".b.example.com", "c"}},
	} {
		t.Setenv("X_LIST", tc.value)
		if got := List("X_LIST"); !slices.Equal(got, tc.want) {
			t.Errorf("List(%q) = %q, want %q", tc.value, got, tc.want)
		}
	}
}

// TestSecretFromSSM runs against moto's server mode, as the deployed path
// reads a SecureString from Parameter Store.
func TestSecretFromSSM(t *testing.T) {
	services.ForTests(t, services.Need{SSM: true}) // moto: the one `make test` started, or one for this test binary
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg, err := AWS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 8)
	rand.Read(b)
	param := "/werun-test/secret-" + hex.EncodeToString(b)
	const value = "the-app-secret-value"
	// Overwrite: on a loaded machine moto can take longer than
	// AttemptTimeout to create it, and the retry then finds it made.
	if _, err := ssm.NewFromConfig(cfg).PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(param), Value: aws.String(value), Type: ssmtypes.ParameterTypeSecureString,
		Overwrite: aws.Bool(true),
	}); err != nil {
		t.Fatalf("create parameter: %v", err)
	}

	t.Setenv("APP_SECRET", "")
	t.Setenv("APP_SECRET_PARAM", param)
	got, err := Secret(ctx, "APP_SECRET")
	if err != nil || got != value {
		t.Fatalf("Secret = %q, %v; want the decrypted parameter", got, err)
	}

	t.Run("absent parameter is an error without values", func(t *testing.T) {
		t.Setenv("OTHER_SECRET", "")
		t.Setenv("OTHER_SECRET_PARAM", param+"-absent")
		_, err := Secret(ctx, "OTHER_SECRET")
		if err == nil {
			t.Fatal("want an error for an absent parameter")
		}
		if errors.Is(err, ErrMissing) || strings.Contains(err.Error(), value) {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestFreshAndRereadFollowARotation runs against moto: the value changes in
// SSM, and the clock of the re-reads is moved instead of waited for.
func TestFreshAndRereadFollowARotation(t *testing.T) {
	services.ForTests(t, services.Need{SSM: true})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg, err := AWS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Unix(1_700_000_000, 0)
	now = func() time.Time { return clock }
	t.Cleanup(func() { now = time.Now })
	b := make([]byte, 8)
	rand.Read(b)
	param := "/werun-test/rotating-" + hex.EncodeToString(b)
	put := func(v string) {
		t.Helper()
		if _, err := ssm.NewFromConfig(cfg).PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String(param), Value: aws.String(v), Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true),
		}); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("ROT_SECRET", "")
	t.Setenv("ROT_SECRET_PARAM", param)
	const maxAge, gap = 5 * time.Minute, 30 * time.Second
	put("v1")
	if v, err := Secret(ctx, "ROT_SECRET"); v != "v1" || err != nil {
		t.Fatalf("Secret = %q, %v", v, err)
	}
	put("v2")
	steps := []struct {
		name    string
		advance time.Duration
		read    func() (string, error)
		want    string
	}{
		{"Secret keeps what it read", 0, func() (string, error) { return Secret(ctx, "ROT_SECRET") }, "v1"},
		{"Fresh before maxAge keeps it", maxAge - time.Second, func() (string, error) { return Fresh(ctx, "ROT_SECRET", maxAge) }, "v1"},
		{"Fresh past maxAge and its spread reads again", maxAge/4 + time.Second, func() (string, error) { return Fresh(ctx, "ROT_SECRET", maxAge) }, "v2"},
		{"Secret then has the new value", 0, func() (string, error) { return Secret(ctx, "ROT_SECRET") }, "v2"},
		{"the first Reread reads at once", 0, func() (string, error) { put("v3"); return Reread(ctx, "ROT_SECRET", gap) }, "v3"},
		{"a second Reread within the gap does not", gap - time.Second, func() (string, error) { put("v4"); return Reread(ctx, "ROT_SECRET", gap) }, "v3"},
		{"a Reread past the gap and its spread does", gap/4 + time.Second, func() (string, error) { return Reread(ctx, "ROT_SECRET", gap) }, "v4"},
	}
	for _, s := range steps {
		clock = clock.Add(s.advance)
		if v, err := s.read(); v != s.want || err != nil {
			t.Errorf("%s: %q, %v; want %q", s.name, v, err, s.want)
		}
	}
	// A failed re-read keeps the value and says why, without it.
	t.Setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:1")
	clock = clock.Add(2 * maxAge)
	v, err := Fresh(ctx, "ROT_SECRET", maxAge)
	if v != "v4" || err == nil || strings.Contains(err.Error(), "v4") {
		t.Errorf("Fresh with SSM down: %q, %v; want the old value and an error without it", v, err)
	}
}
