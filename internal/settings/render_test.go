package settings_test

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/settings"
)

var report = settings.Report{
	Outcomes: []settings.Outcome{
		{Registry: "prod", Setting: settings.SettingRegistryScanning, Status: settings.Unchanged, Detail: "BASIC: SCAN_ON_PUSH (team/*)"},
		{Registry: "prod", Repository: "team/app", Setting: settings.SettingLifecyclePolicy, Status: settings.Updated, Detail: "none → keep.json"},
		{Registry: "prod", Repository: "team/app", Setting: settings.SettingTagMutability, Status: settings.Failed, Detail: "MUTABLE → IMMUTABLE",
			Reason: "PutImageTagMutability: AccessDeniedException: denied"},
		{Registry: "prod", Repository: "team/app", Setting: settings.SettingEncryption, Status: settings.Drifted, Detail: "AES256, declared KMS",
			Reason: "encryption cannot be changed after a repository is created; recreate it to change"},
	},
	Errors: []string{"dev: listing repositories: DescribeRepositories: ServerException: | boom"},
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := settings.WriteTable(&buf, report, false); err != nil {
		t.Fatal(err)
	}
	want := `REGISTRY  REPOSITORY  SETTING           STATUS     DETAIL
prod      (registry)  registryScanning  unchanged  BASIC: SCAN_ON_PUSH (team/*)
prod      team/app    lifecyclePolicy   updated    none → keep.json
prod      team/app    tagMutability     failed     MUTABLE → IMMUTABLE: PutImageTagMutability: AccessDeniedException: denied
prod      team/app    encryption        drifted    AES256, declared KMS: encryption cannot be changed after a repository is created; recreate it to change

error: dev: listing repositories: DescribeRepositories: ServerException: | boom
Summary: 4 settings: 1 unchanged, 1 updated, 0 created, 1 failed, 1 drifted
`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("WriteTable() (-want +got):\n%s", diff)
	}

	buf.Reset()
	if err := settings.WriteTable(&buf, report, true); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte("\x1b[31mfailed     \x1b[0m")) || bytes.Contains(buf.Bytes(), []byte("\x1b[31munchanged")) {
		t.Errorf("WriteTable(color) does not colour failures alone:\n%q", buf.String())
	}
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := settings.WriteJSON(&buf, settings.Report{Outcomes: report.Outcomes[:2]}); err != nil {
		t.Fatal(err)
	}
	want := `{
  "summary": {
    "settings": 2,
    "unchanged": 1,
    "updated": 1,
    "created": 0,
    "failed": 0,
    "drifted": 0
  },
  "outcomes": [
    {
      "registry": "prod",
      "setting": "registryScanning",
      "status": "unchanged",
      "detail": "BASIC: SCAN_ON_PUSH (team/*)"
    },
    {
      "registry": "prod",
      "repository": "team/app",
      "setting": "lifecyclePolicy",
      "status": "updated",
      "detail": "none → keep.json"
    }
  ]
}
`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("WriteJSON() (-want +got):\n%s", diff)
	}
	buf.Reset()
	if err := settings.WriteJSON(&buf, settings.Report{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte(`"outcomes": []`)) {
		t.Errorf("WriteJSON(empty) = %s, want outcomes as an empty array", buf.String())
	}
}

func TestWriteMarkdown(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := settings.WriteMarkdown(&buf, report); err != nil {
		t.Fatal(err)
	}
	want := "### shipshape ensure\n\n**1** updated, **0** created, **1** failed, **1** drifted, 1 unchanged, of 4 settings.\n\n" +
		"> [!CAUTION]\n> dev: listing repositories: DescribeRepositories: ServerException: \\| boom\n\n" +
		"| Registry | Repository | Setting | Status | Detail | Reason |\n|---|---|---|---|---|---|\n" +
		"| prod | (registry) | registryScanning | unchanged | BASIC: SCAN_ON_PUSH (team/*) |  |\n" +
		"| prod | team/app | lifecyclePolicy | updated | none → keep.json |  |\n" +
		"| prod | team/app | tagMutability | failed | MUTABLE → IMMUTABLE | PutImageTagMutability: AccessDeniedException: denied |\n" +
		"| prod | team/app | encryption | drifted | AES256, declared KMS | encryption cannot be changed after a repository is created; recreate it to change |\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("WriteMarkdown() (-want +got):\n%s", diff)
	}
}
