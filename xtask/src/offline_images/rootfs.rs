//! A root filesystem assembled in a directory from the host's files, for an image built
//! `FROM scratch`: binaries with the shared libraries `ldd` lists for them, busybox with its
//! applets linked, users and groups.

use std::collections::BTreeSet;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::engine::process;

pub struct Rootfs {
    root: PathBuf,
}

/// A user of the image, with a group of the same name and id.
pub struct User<'a> {
    pub name: &'a str,
    pub id: u32,
    pub home: &'a str,
}

impl Rootfs {
    pub fn create(root: PathBuf) -> Result<Rootfs> {
        std::fs::create_dir_all(&root)
            .with_context(|| format!("failed to create `{}`", root.display()))?;
        Ok(Rootfs { root })
    }

    /// Where the image's `path` is in the directory.
    fn host_path(&self, path: &str) -> PathBuf {
        self.root.join(path.trim_start_matches('/'))
    }

    pub fn create_dir(&self, path: &str, mode: u32) -> Result<()> {
        let target = self.host_path(path);
        std::fs::create_dir_all(&target)
            .with_context(|| format!("failed to create `{}`", target.display()))?;
        set_mode(&target, mode)
    }

    pub fn write_file(&self, path: &str, contents: &str, mode: u32) -> Result<()> {
        let target = self.host_path(path);
        create_parent(&target)?;
        std::fs::write(&target, contents)
            .with_context(|| format!("failed to write `{}`", target.display()))?;
        set_mode(&target, mode)
    }

    /// Copies the host's file `source` (following symlinks) to `path`, keeping its mode.
    pub fn copy_file(&self, source: &Path, path: &str) -> Result<()> {
        let target = self.host_path(path);
        create_parent(&target)?;
        std::fs::copy(source, &target).with_context(|| {
            format!("failed to copy `{}` to `{}`", source.display(), target.display())
        })?;
        Ok(())
    }

    /// Copies the host's directory `source` to `path`, keeping symlinks as symlinks.
    pub fn copy_tree(&self, source: &Path, path: &str) -> Result<()> {
        let target = self.host_path(path);
        copy_tree(source, &target)
    }

    /// Copies every shared library that `ldd` lists for `binaries` (and the dynamic loader) to
    /// the same path in the image. Static binaries need none.
    pub fn copy_libraries(&self, sh: &Shell, binaries: &[PathBuf]) -> Result<()> {
        let output = process::output(cmd!(sh, "ldd {binaries...}"))?;
        let listing = String::from_utf8_lossy(&output.stdout);
        for library in shared_libraries(&listing)? {
            self.copy_file(Path::new(&library), &library)?;
        }
        Ok(())
    }

    /// Copies a static busybox to `/bin/busybox` and links its applets (`sh`, `wget`, ...)
    /// where `busybox --list-full` places them, leaving files already there alone.
    pub fn install_busybox(&self, sh: &Shell, busybox: &Path) -> Result<()> {
        self.copy_file(busybox, "/bin/busybox")?;
        let applets = process::read(cmd!(sh, "{busybox} --list-full"))?;
        for applet in applets.lines().map(str::trim).filter(|a| a.contains('/')) {
            let link = self.host_path(applet);
            if link.symlink_metadata().is_ok() {
                continue;
            }
            create_parent(&link)?;
            symlink("/bin/busybox", &link)
                .with_context(|| format!("failed to link `{}`", link.display()))?;
        }
        Ok(())
    }

    /// `/etc/passwd` and `/etc/group` with root and `users`.
    pub fn write_users(&self, users: &[User<'_>]) -> Result<()> {
        let mut passwd = String::from("root:x:0:0:root:/root:/bin/sh\n");
        let mut group = String::from("root:x:0:root\n");
        for user in users {
            let User { name, id, home } = user;
            passwd.push_str(&format!("{name}:x:{id}:{id}:{name}:{home}:/bin/sh\n"));
            group.push_str(&format!("{name}:x:{id}:{name}\n"));
        }
        self.write_file("/etc/passwd", &passwd, 0o644)?;
        self.write_file("/etc/group", &group, 0o644)?;
        self.create_dir("/root", 0o700)
    }
}

/// The absolute paths of the libraries in `ldd` output, the loader included; the kernel's
/// vDSO, which has no file, is left out.
fn shared_libraries(listing: &str) -> Result<BTreeSet<String>> {
    let mut libraries = BTreeSet::new();
    for line in listing.lines().filter(|l| l.starts_with(char::is_whitespace)) {
        let line = line.trim();
        let path = match line.split_once("=>") {
            Some((name, target)) => {
                let target = target.trim();
                if target.starts_with("not found") {
                    bail!("`ldd` cannot find the shared library `{}`", name.trim());
                }
                target.split(" (").next().unwrap_or_default()
            }
            None => line.split(" (").next().unwrap_or_default(),
        };
        if path.starts_with('/') {
            libraries.insert(path.to_string());
        }
    }
    Ok(libraries)
}

fn copy_tree(source: &Path, target: &Path) -> Result<()> {
    std::fs::create_dir_all(target)
        .with_context(|| format!("failed to create `{}`", target.display()))?;
    let entries = std::fs::read_dir(source)
        .with_context(|| format!("failed to read `{}`", source.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("failed to read `{}`", source.display()))?;
        let from = entry.path();
        let to = target.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            let link = std::fs::read_link(&from)?;
            symlink(&link, &to).with_context(|| format!("failed to link `{}`", to.display()))?;
        } else if kind.is_dir() {
            copy_tree(&from, &to)?;
        } else {
            std::fs::copy(&from, &to).with_context(|| {
                format!("failed to copy `{}` to `{}`", from.display(), to.display())
            })?;
        }
    }
    Ok(())
}

fn create_parent(path: &Path) -> Result<()> {
    let parent = path.parent().expect("a path inside the root has a parent");
    std::fs::create_dir_all(parent)
        .with_context(|| format!("failed to create `{}`", parent.display()))
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("failed to set the mode of `{}`", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libraries_and_the_loader_from_ldd() {
        let listing = "\
/usr/bin/deno:
\tlinux-vdso.so.1 (0x00007ffd)
\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007f5e)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f5e)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f5e)
/bin/busybox:
\tnot a dynamic executable
/usr/bin/psql:
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f5e)
";
        let libraries: Vec<String> = shared_libraries(listing).unwrap().into_iter().collect();
        assert_eq!(
            libraries,
            [
                "/lib/x86_64-linux-gnu/libc.so.6",
                "/lib/x86_64-linux-gnu/libdl.so.2",
                "/lib64/ld-linux-x86-64.so.2",
            ]
        );
    }

    #[test]
    fn a_missing_library_is_an_error() {
        let listing = "/x:\n\tlibpq.so.5 => not found\n";
        let error = shared_libraries(listing).unwrap_err();
        assert_eq!(error.to_string(), "`ldd` cannot find the shared library `libpq.so.5`");
    }
}
