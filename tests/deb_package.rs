//! The Debian package (issue 20, item 5): `scripts/package-deb.sh` builds it,
//! lintian finds no error in it, dpkg installs it into a throwaway root, and
//! the installed unit passes `systemd-analyze verify` there. The maintainer
//! scripts are exercised for real: the user and directories they create, a
//! new install that starts nothing, upgrades that restart the daemon only
//! once the placeholder secrets are gone, remove and purge, and the adduser
//! fallback on a system without systemd-sysusers.
//!
//! **Which binary.** The package is built from the debug binary that `cargo
//! test` has just built (`package-deb.sh --binary`), not from the `dist`
//! profile the release package uses: a dist build takes about 4 minutes on
//! two cores, packaging the debug binary about 6 seconds. What this test
//! checks (the files, their modes, the control fields, the maintainer
//! scripts, the unit) does not depend on how the binary was optimized; the
//! binary only has to run, and `check-config` runs it from the installed
//! path.
//!
//! **Which root.** A copy-on-write copy of this machine: an overlay mount
//! with `/` as its lower layer and a temporary directory as its upper one, in
//! a private mount namespace (`unshare --mount`), entered with `chroot`.
//! Inside it `dpkg -i` is the real one, against the machine's real package
//! database and with the real adduser, systemd-sysusers and
//! systemd-tmpfiles, and every write lands in the temporary directory; the
//! machine itself is not touched. systemd is not PID 1 here (nor in CI), so
//! where a test needs "systemd is running" it creates `/run/systemd/system`
//! inside the root and puts recording stand-ins for `systemctl` and
//! `deb-systemd-invoke` first in `PATH`: the test reads what the maintainer
//! scripts asked systemd to do. `deb-systemd-helper` (enable/mask state) is
//! the real one.
//!
//! Needs root (mounts, chroot), cargo-deb and lintian: `.ci/run` runs as root
//! and `scripts/setup-test-deps.sh` installs the tools. Without them the tests
//! fail, saying what is missing; they do not skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const BIN: &str = env!("CARGO_BIN_EXE_carrier-gateway");
const CONFIG: &str = "/etc/carrier-gateway/config.toml";
const UNIT: &str = "/usr/lib/systemd/system/carrier-gateway.service";
const GUARD: &str = "/usr/libexec/carrier-gateway/refuse-placeholder-secrets";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn require(what: &str, probe: &mut Command) {
    let ok = probe.output().map(|o| o.status.success()).unwrap_or(false);
    assert!(
        ok,
        "{what} is needed by this test and is missing: run scripts/setup-test-deps.sh"
    );
}

fn require_root() {
    let uid = Command::new("id").arg("-u").output().expect("id -u");
    assert_eq!(
        text(&uid.stdout).trim(),
        "0",
        "this test mounts an overlay and chroots into it, which needs root (.ci/run runs as root)"
    );
    require(
        "unshare (util-linux)",
        Command::new("unshare").arg("--version"),
    );
}

/// The package, built once per test run from the debug binary, in
/// `<target dir>/deb-test/`.
fn package() -> &'static Path {
    static DEB: OnceLock<PathBuf> = OnceLock::new();
    DEB.get_or_init(|| {
        require(
            "cargo-deb",
            Command::new("cargo").args(["deb", "--version"]),
        );
        // BIN is <target dir>/<profile>/carrier-gateway.
        let target = Path::new(BIN)
            .parent()
            .and_then(Path::parent)
            .expect("the target directory");
        let out = target.join("deb-test");
        let _ = std::fs::remove_dir_all(&out);
        let built = Command::new(repo().join("scripts/package-deb.sh"))
            .args(["--binary", BIN, "--no-lintian", "--output"])
            .arg(&out)
            .output()
            .expect("run scripts/package-deb.sh");
        assert!(
            built.status.success(),
            "package-deb.sh failed:\n{}{}",
            text(&built.stdout),
            text(&built.stderr)
        );
        let deb = PathBuf::from(text(&built.stdout).lines().last().unwrap_or_default());
        assert!(
            deb.is_file() && deb.starts_with(&out),
            "package-deb.sh printed {deb:?}"
        );
        deb
    })
}

/// A throwaway root: this machine seen through an overlay whose upper layer
/// is a temporary directory (see the module docs). Each `sh` call mounts it
/// afresh in a new mount namespace, so what one call writes the next one
/// sees, and nothing outlives the temporary directory.
struct ScratchRoot {
    dir: tempfile::TempDir,
}

impl ScratchRoot {
    /// A root with the package at /mnt/carrier-gateway.deb, man-db's
    /// trigger off (it would index every manual page: seconds).
    fn new() -> Self {
        require_root();
        let deb = package();
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in ["upper", "work", "root", "share"] {
            std::fs::create_dir(dir.path().join(sub)).expect("overlay dirs");
        }
        std::fs::copy(deb, dir.path().join("share/carrier-gateway.deb")).expect("copy the package");
        let root = ScratchRoot { dir };
        root.ok("rm -f /var/lib/man-db/auto-update");
        root
    }

    /// Runs a shell script as root inside the scratch root.
    fn sh(&self, script: &str) -> Output {
        const ENTER: &str = r#"set -e
base=$1
mount --make-rprivate /
mount -t overlay overlay -o "lowerdir=/,upperdir=$base/upper,workdir=$base/work" "$base/root"
mount -t proc proc "$base/root/proc"
mount --rbind /dev "$base/root/dev"
mount -t tmpfs tmpfs "$base/root/tmp"
mount --bind "$base/share" "$base/root/mnt"
exec chroot "$base/root" /usr/bin/env -i LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/sh -c "$2"
"#;
        Command::new("unshare")
            .args(["--mount", "--fork", "--", "sh", "-c", ENTER, "sh"])
            .arg(self.dir.path())
            .arg(script)
            .output()
            .expect("unshare")
    }

    /// Runs a script that must succeed; returns its stdout.
    fn ok(&self, script: &str) -> String {
        let out = self.sh(script);
        assert!(
            out.status.success(),
            "`{script}` failed ({}):\n{}{}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// `/run/systemd/system` exists (systemd "is running"), and
    /// `systemctl`/`deb-systemd-invoke` record their arguments instead of
    /// acting; `take_systemd_calls` returns and clears the record.
    fn pretend_systemd_runs(&self) {
        self.ok(r#"mkdir -p /run/systemd/system
for t in systemctl deb-systemd-invoke; do
  printf '#!/bin/sh\necho "%s $*" >> /var/log/systemd-calls\n' "$t" > /usr/local/sbin/$t
  chmod 755 /usr/local/sbin/$t
done
: > /var/log/systemd-calls"#);
    }

    fn take_systemd_calls(&self) -> Vec<String> {
        let calls = self.ok("cat /var/log/systemd-calls; : > /var/log/systemd-calls");
        calls.lines().map(str::to_owned).collect()
    }

    fn install(&self) -> Output {
        let out = self.sh("dpkg -i /mnt/carrier-gateway.deb");
        assert!(
            out.status.success(),
            "dpkg -i failed:\n{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        out
    }

    /// `mode owner:group` of a path.
    fn stat(&self, path: &str) -> String {
        self.ok(&format!("stat -c '%a %U:%G' {path}"))
            .trim()
            .to_owned()
    }

    /// Runs a command as the carrier-gateway user and group, as the unit does.
    fn as_daemon(&self, cmd: &str) -> Output {
        self.sh(&format!(
            "setpriv --reuid=carrier-gateway --regid=carrier-gateway --clear-groups {cmd}"
        ))
    }
}

/// What the user, directories and config look like after an install,
/// whichever tool created them.
fn assert_user_and_directories(root: &ScratchRoot) {
    let passwd = root.ok("getent passwd carrier-gateway");
    let fields: Vec<&str> = passwd.trim().split(':').collect();
    assert_eq!(fields.len(), 7, "{passwd}");
    let uid: u32 = fields[2].parse().expect("uid");
    assert!(uid > 0 && uid < 1000, "a system user: {passwd}");
    assert_eq!(fields[5], "/var/lib/carrier-gateway", "{passwd}");
    assert_eq!(fields[6], "/usr/sbin/nologin", "{passwd}");
    root.ok("getent group carrier-gateway");

    assert_eq!(root.stat("/etc/carrier-gateway"), "755 root:root");
    assert_eq!(root.stat(CONFIG), "640 root:carrier-gateway");
    assert_eq!(
        root.stat("/var/lib/carrier-gateway"),
        "700 carrier-gateway:carrier-gateway"
    );

    // The daemon's user reads the config (the installed binary checks it);
    // anybody else does not.
    let check = root.as_daemon(&format!("carrier-gateway check-config --config {CONFIG}"));
    assert!(
        check.status.success() && text(&check.stdout).starts_with("configuration OK"),
        "check-config as carrier-gateway: {}{}",
        text(&check.stdout),
        text(&check.stderr)
    );
    let other = root.sh(&format!(
        "setpriv --reuid=nobody --regid=nogroup --clear-groups cat {CONFIG}"
    ));
    assert!(!other.status.success(), "nobody could read the config");
}

#[test]
fn the_package_passes_lintian_and_ships_what_the_unit_needs() {
    let deb = package();
    require("lintian", Command::new("lintian").arg("--version"));

    // lintian leaves files in TMPDIR.
    let lint_tmp = tempfile::tempdir().expect("temp dir");
    let lint = Command::new("lintian")
        .env("TMPDIR", lint_tmp.path())
        .args(["--fail-on", "error", "--tag-display-limit", "0"])
        .arg(deb)
        .output()
        .expect("lintian");
    let report = text(&lint.stdout);
    let errors: Vec<&str> = report.lines().filter(|l| l.starts_with("E:")).collect();
    assert!(
        lint.status.success() && errors.is_empty(),
        "lintian:\n{report}{}",
        text(&lint.stderr)
    );
    // Warnings are allowed by the bar, but print them for whoever reads the log.
    eprint!("{report}");

    let fields = Command::new("dpkg-deb")
        .args(["--field"])
        .arg(deb)
        .args(["Package", "Version", "Depends", "Section"])
        .output()
        .expect("dpkg-deb --field");
    let fields = text(&fields.stdout);
    assert!(fields.contains("Package: carrier-gateway"), "{fields}");
    let description = Command::new("dpkg-deb")
        .arg("--field")
        .arg(deb)
        .arg("Description")
        .output()
        .expect("dpkg-deb --field Description");
    assert_eq!(
        text(&description.stdout).lines().next(),
        Some(env!("CARGO_PKG_DESCRIPTION")),
        "the synopsis is Cargo.toml's description on one line"
    );
    // The changelog's latest entry is this version (bump both together).
    let version = format!("{}-1", env!("CARGO_PKG_VERSION"));
    assert!(fields.contains(&format!("Version: {version}")), "{fields}");
    let changelog = std::fs::read_to_string(repo().join("packaging/debian/changelog"))
        .expect("packaging/debian/changelog");
    assert!(
        changelog.starts_with(&format!("carrier-gateway ({version})")),
        "packaging/debian/changelog does not start with version {version}"
    );
    assert!(
        fields.contains("adduser"),
        "Depends names adduser: {fields}"
    );
    assert!(
        fields.contains("libc6"),
        "Depends from dpkg-shlibdeps: {fields}"
    );

    let conffiles = Command::new("dpkg-deb")
        .args(["--info"])
        .arg(deb)
        .arg("conffiles")
        .output()
        .expect("dpkg-deb --info conffiles");
    assert_eq!(text(&conffiles.stdout).trim(), CONFIG);

    let listing = Command::new("dpkg-deb")
        .arg("--contents")
        .arg(deb)
        .output()
        .expect("dpkg-deb --contents");
    let listing = text(&listing.stdout);
    let entry = |path: &str| -> String {
        listing
            .lines()
            .find(|l| l.ends_with(&format!(".{path}")))
            .unwrap_or_else(|| panic!("{path} is not in the package:\n{listing}"))
            .to_owned()
    };
    for (path, mode) in [
        ("/usr/bin/carrier-gateway", "-rwxr-xr-x"),
        (UNIT, "-rw-r--r--"),
        (
            "/usr/lib/systemd/system/carrier-gateway.service.d/placeholder-guard.conf",
            "-rw-r--r--",
        ),
        (GUARD, "-rwxr-xr-x"),
        ("/usr/lib/sysusers.d/carrier-gateway.conf", "-rw-r--r--"),
        ("/usr/lib/tmpfiles.d/carrier-gateway.conf", "-rw-r--r--"),
        // Never world-readable, not even between unpack and postinst.
        (CONFIG, "-rw-r-----"),
        ("/usr/share/man/man1/carrier-gateway.1.gz", "-rw-r--r--"),
        ("/usr/share/doc/carrier-gateway/README.md", "-rw-r--r--"),
    ] {
        let line = entry(path);
        assert!(line.starts_with(mode), "{line}: want {mode}");
    }
    // The shipped files are the repository's, byte for byte.
    for (installed, source) in [
        (UNIT, "systemd/carrier-gateway.service"),
        (
            "/etc/carrier-gateway/config.toml",
            "systemd/config.example.toml",
        ),
    ] {
        let shipped = Command::new("sh")
            .arg("-c")
            .arg(r#"dpkg-deb --fsys-tarfile "$1" | tar -xO ".$2""#)
            .args(["sh"])
            .arg(deb)
            .arg(installed)
            .output()
            .expect("tar");
        let want = std::fs::read(repo().join(source)).expect("source file");
        assert!(shipped.stdout == want, "{installed} differs from {source}");
    }
}

#[test]
fn a_new_install_creates_the_user_and_directories_and_starts_nothing() {
    let root = ScratchRoot::new();
    root.pretend_systemd_runs();
    let out = root.install();

    // systemd was told about the new unit, and nothing else: no start, no
    // enable (deb-systemd-helper would have made the wants/ link).
    let calls = root.take_systemd_calls();
    assert!(
        calls
            .iter()
            .all(|c| c == "systemctl --system daemon-reload"),
        "{calls:?}"
    );
    let wants =
        root.sh("test -e /etc/systemd/system/multi-user.target.wants/carrier-gateway.service");
    assert!(!wants.status.success(), "the unit was enabled on install");
    assert!(
        text(&out.stdout).contains("neither enabled nor started"),
        "the postinst tells the admin what to do next: {}",
        text(&out.stdout)
    );

    assert_user_and_directories(&root);
    let conffiles = root.ok("dpkg-query -W -f='${Conffiles}' carrier-gateway");
    assert!(conffiles.contains(CONFIG), "{conffiles}");

    // The unit as installed, drop-in included, with the installed binary.
    require(
        "systemd-analyze",
        Command::new("systemd-analyze").arg("--version"),
    );
    let verify = root.sh(&format!("systemd-analyze verify {UNIT}"));
    assert!(
        verify.status.success() && verify.stderr.is_empty(),
        "systemd-analyze verify: {}{}",
        text(&verify.stdout),
        text(&verify.stderr)
    );
    // verify reads the unit's drop-in directory: a bad key there would have
    // been reported above, as this one is.
    let bad_dropin = root.sh(&format!(
        "printf '[Service]\\nNoSuchKey=1\\n' > {UNIT}.d/zz-test.conf; systemd-analyze verify {UNIT}; rm {UNIT}.d/zz-test.conf"
    ));
    assert!(
        text(&bad_dropin.stderr).contains("zz-test.conf:2: Unknown key"),
        "{}",
        text(&bad_dropin.stderr)
    );

    // The unit's ExecStartPre= guard, run as the unit runs it, refuses the
    // example config, naming the lines; with real secrets it passes.
    let guard = root.as_daemon(&format!("{GUARD} {CONFIG}"));
    assert_eq!(guard.status.code(), Some(1), "{}", text(&guard.stderr));
    let said = text(&guard.stderr);
    assert!(said.contains("placeholder secrets"), "{said}");
    assert!(said.contains(&format!("{CONFIG} line ")), "{said}");
    root.ok(&format!(
        "sed -i 's/change-me-api-token/tok-9f2c41/; s/change-me-webhook-secret/sec-7d01aa/' {CONFIG}"
    ));
    let guard = root.as_daemon(&format!("{GUARD} {CONFIG}"));
    assert!(guard.status.success(), "{}", text(&guard.stderr));
}

#[test]
fn upgrades_restart_only_a_configured_daemon_and_purge_keeps_the_state() {
    let root = ScratchRoot::new();
    root.pretend_systemd_runs();
    root.install();
    root.take_systemd_calls();

    // Upgrade (the same version again: dpkg runs the same scripts with the
    // old version as $2) while the placeholders are still there: no restart.
    let out = root.install();
    let calls = root.take_systemd_calls();
    assert!(
        calls.iter().all(|c| c.contains("daemon-reload")),
        "{calls:?}"
    );
    assert!(
        text(&out.stderr).contains("not restarted after the upgrade"),
        "{}",
        text(&out.stderr)
    );

    // With real secrets, an upgrade restarts the daemon if it runs
    // (try-restart starts nothing), and dpkg keeps the edited conffile.
    root.ok(&format!(
        "sed -i 's/change-me-api-token/tok-9f2c41/; s/change-me-webhook-secret/sec-7d01aa/' {CONFIG}"
    ));
    root.install();
    let calls = root.take_systemd_calls();
    assert!(
        calls.contains(&"deb-systemd-invoke try-restart carrier-gateway.service".to_owned()),
        "{calls:?}"
    );
    assert!(
        !calls
            .iter()
            .any(|c| c.contains(" start ") || c.contains(" enable")),
        "{calls:?}"
    );
    assert!(root.ok(&format!("cat {CONFIG}")).contains("tok-9f2c41"));
    assert_eq!(root.stat(CONFIG), "640 root:carrier-gateway");

    // Remove stops it; purge removes the config and keeps the state (the
    // outbox may hold accepted messages) and the user that owns it.
    root.ok("dpkg --remove carrier-gateway");
    let calls = root.take_systemd_calls();
    assert!(
        calls.contains(&"deb-systemd-invoke stop carrier-gateway.service".to_owned()),
        "{calls:?}"
    );
    root.ok("dpkg --purge carrier-gateway");
    root.ok(&format!(
        "test ! -e {CONFIG} && test ! -e {UNIT} && test -d /var/lib/carrier-gateway && getent passwd carrier-gateway"
    ));
}

#[test]
fn without_systemd_sysusers_and_tmpfiles_adduser_makes_the_same_setup() {
    let root = ScratchRoot::new();
    // A system without them (a container without systemd): gone from this
    // root only.
    root.ok("rm /usr/bin/systemd-sysusers /usr/bin/systemd-tmpfiles");
    root.install();
    assert_user_and_directories(&root);
}

/// The man page (packaging/debian/carrier-gateway.1) names every subcommand
/// the binary has, so it does not fall behind the CLI.
#[test]
fn the_man_page_names_every_subcommand() {
    let page = std::fs::read_to_string(repo().join("packaging/debian/carrier-gateway.1"))
        .expect("the man page");
    let help = Command::new(BIN).arg("--help").output().expect("--help");
    let help = text(&help.stdout);
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(commands.len() >= 5, "no command list in:\n{help}");
    for command in commands {
        assert!(
            page.contains(&format!(".B carrier-gateway {command}")),
            "the man page does not name `{command}`"
        );
    }
}
