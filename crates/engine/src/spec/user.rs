//! The container's user: `user`, `uid`, `user:group`, `uid:gid`... resolved against the
//! image's own /etc/passwd and /etc/group as libcontainer's `GetExecUser` does, with Docker's
//! error texts. The rootfs is the image's and may be hostile: its files are opened by the
//! kernel inside it (openat2 RESOLVE_IN_ROOT), only regular files are read, and only so much.

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use oci_spec::runtime::User;
use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use super::error::{Result, SpecError};

/// More than any real passwd or group file; a bigger one is not read past this.
const MAX_FILE: u64 = 16 << 20;
/// libcontainer's bounds for ids.
const MAX_ID: i64 = i32::MAX as i64;

#[derive(Debug, Clone, PartialEq, Eq)]
struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct GroupEntry {
    name: String,
    gid: u32,
    members: Vec<String>,
}

/// The image's account files, as read (`None`: the file does not exist).
#[derive(Debug, Clone, Default)]
pub(crate) struct Accounts {
    passwd: Option<String>,
    group: Option<String>,
}

impl Accounts {
    /// Reads `/etc/passwd` and `/etc/group` of the rootfs.
    pub(crate) fn read(rootfs: &Path) -> Result<Accounts> {
        let root = rustix::fs::open(
            rootfs,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| SpecError::io("opening rootfs", rootfs, e.into()))?;
        Ok(Accounts {
            passwd: read_in_root(&root, rootfs, "etc/passwd")?,
            group: read_in_root(&root, rootfs, "etc/group")?,
        })
    }

    #[cfg(test)]
    pub(crate) fn from_text(passwd: Option<&str>, group: Option<&str>) -> Accounts {
        Accounts {
            passwd: passwd.map(str::to_owned),
            group: group.map(str::to_owned),
        }
    }

    fn users(&self) -> impl Iterator<Item = PasswdEntry> + '_ {
        self.passwd
            .iter()
            .flat_map(|text| text.lines())
            .filter_map(parse_passwd_line)
    }

    fn groups(&self) -> impl Iterator<Item = GroupEntry> + '_ {
        self.group
            .iter()
            .flat_map(|text| text.lines())
            .filter_map(parse_group_line)
    }
}

/// A regular file inside the root, read through a handle the kernel resolved within it;
/// `None` when it does not exist or is not a regular file (a FIFO or a device planted there
/// must neither block nor be read).
fn read_in_root(root: &OwnedFd, rootfs: &Path, relative: &str) -> Result<Option<String>> {
    let shown = rootfs.join(relative);
    let handle = loop {
        match rustix::fs::openat2(
            root,
            relative,
            OFlags::PATH | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
        ) {
            Ok(fd) => break fd,
            // The kernel asks for a retry when a rename raced with the lookup.
            Err(Errno::AGAIN) => continue,
            Err(Errno::NOENT) | Err(Errno::NOTDIR) => return Ok(None),
            Err(e) => return Err(SpecError::io("opening", shown, e.into())),
        }
    };
    let stat =
        rustix::fs::fstat(&handle).map_err(|e| SpecError::io("checking", &shown, e.into()))?;
    if rustix::fs::FileType::from_raw_mode(stat.st_mode) != rustix::fs::FileType::RegularFile {
        return Ok(None);
    }
    // Reopening the O_PATH handle through its magic link opens exactly the inode checked.
    let reopened = rustix::fs::open(
        format!("/proc/self/fd/{}", handle.as_raw_fd()),
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| SpecError::io("opening", &shown, e.into()))?;
    let mut bytes = Vec::new();
    std::fs::File::from(reopened)
        .take(MAX_FILE)
        .read_to_end(&mut bytes)
        .map_err(|e| SpecError::io("reading", &shown, e))?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

/// `name:password:uid:gid:gecos:home:shell`; lines that do not parse are skipped.
fn parse_passwd_line(line: &str) -> Option<PasswdEntry> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut fields = line.split(':');
    let name = fields.next()?.to_owned();
    let _password = fields.next();
    let uid = fields.next()?.parse().ok()?;
    let gid = fields.next()?.parse().ok()?;
    Some(PasswdEntry { name, uid, gid })
}

/// `name:password:gid:member,member`.
fn parse_group_line(line: &str) -> Option<GroupEntry> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut fields = line.split(':');
    let name = fields.next()?.to_owned();
    let _password = fields.next();
    let gid = fields.next()?.parse().ok()?;
    let members = fields
        .next()
        .unwrap_or("")
        .split(',')
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
        .collect();
    Some(GroupEntry { name, gid, members })
}

fn numeric_id(s: &str) -> Option<i64> {
    s.parse::<i64>().ok()
}

fn in_range(id: i64) -> Result<u32> {
    if (0..=MAX_ID).contains(&id) {
        u32::try_from(id).map_err(|_| range_error())
    } else {
        Err(range_error())
    }
}

fn range_error() -> SpecError {
    SpecError::invalid("uids and gids must be in range 0-2147483647")
}

/// The user a spec names, and the groups its process gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExecUser {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups from /etc/group (only when the group was not given explicitly).
    pub sgids: Vec<u32>,
}

/// libcontainer's `GetExecUser` with no defaults (root).
pub(crate) fn exec_user(spec: &str, accounts: &Accounts) -> Result<ExecUser> {
    let (user_arg, group_arg) = match spec.split_once(':') {
        Some((user, rest)) => (user, rest.split(':').next().unwrap_or("")),
        None => (spec, ""),
    };
    let uid_arg = numeric_id(user_arg);
    let gid_arg = numeric_id(group_arg);
    let matched = accounts.users().find(|u| match (user_arg, uid_arg) {
        ("", _) => u.uid == 0,
        (_, Some(uid)) => i64::from(u.uid) == uid,
        (name, None) => u.name == name,
    });
    let mut user = ExecUser {
        uid: 0,
        gid: 0,
        sgids: Vec::new(),
    };
    let matched_name = match &matched {
        Some(entry) => {
            user.uid = entry.uid;
            user.gid = entry.gid;
            Some(entry.name.clone())
        }
        None if user_arg.is_empty() => None,
        None => match uid_arg {
            Some(uid) => {
                user.uid = in_range(uid)?;
                None
            }
            None => {
                return Err(SpecError::invalid(format!(
                    "unable to find user {user_arg}: no matching entries in passwd file"
                )));
            }
        },
    };
    if group_arg.is_empty() && matched_name.is_none() {
        return Ok(user);
    }
    if !group_arg.is_empty() {
        let found = accounts.groups().find(|g| match gid_arg {
            Some(gid) => i64::from(g.gid) == gid,
            None => g.name == group_arg,
        });
        user.gid = match (found, gid_arg) {
            (Some(group), _) => group.gid,
            (None, Some(gid)) => in_range(gid)?,
            (None, None) => {
                return Err(SpecError::invalid(format!(
                    "unable to find group {group_arg}: no matching entries in group file"
                )));
            }
        };
    } else if let Some(name) = matched_name {
        user.sgids = accounts
            .groups()
            .filter(|g| g.members.contains(&name))
            .map(|g| g.gid)
            .collect();
    }
    Ok(user)
}

/// libcontainer's `GetAdditionalGroups`: names or ids from `GroupAdd`, each once.
pub(crate) fn additional_groups(wanted: &[String], accounts: &Accounts) -> Result<Vec<u32>> {
    let mut gids: Vec<u32> = Vec::new();
    for name in wanted {
        let found = accounts
            .groups()
            .find(|g| g.name == *name || g.gid.to_string() == *name);
        let gid = match found {
            Some(group) => group.gid,
            None => match numeric_id(name) {
                Some(gid) => in_range(gid)?,
                None => {
                    return Err(SpecError::invalid(format!(
                        "Unable to find group {name}: no matching entries in group file"
                    )));
                }
            },
        };
        if !gids.contains(&gid) {
            gids.push(gid);
        }
    }
    Ok(gids)
}

/// The process user Docker gives a container: the resolved uid and gid, and as additional
/// groups the primary group, the user's groups from /etc/group, then `GroupAdd`.
pub(crate) fn process_user(spec: &str, group_add: &[String], accounts: &Accounts) -> Result<User> {
    let exec = exec_user(spec, accounts)?;
    let mut additional = vec![exec.gid];
    additional.extend(exec.sgids.iter().copied());
    if !group_add.is_empty() {
        additional.extend(additional_groups(group_add, accounts)?);
    }
    let mut user = User::default();
    user.set_uid(exec.uid);
    user.set_gid(exec.gid);
    user.set_additional_gids(Some(additional));
    user.set_umask(None);
    user.set_username(None);
    Ok(user)
}

/// Resolves `user` (as `docker exec --user` gives it) against the rootfs's account files.
pub fn resolve_user(rootfs: &Path, user: &str) -> Result<User> {
    process_user(user, &[], &Accounts::read(rootfs)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
        www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n\
        nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
        broken:x:notanumber:1::/:/bin/sh\n\
        app:x:1000:1000::/home/app:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nwheel:x:10:root,app\ndaemon:x:1:\n\
        www-data:x:33:\nnogroup:x:65534:\napp:x:1000:\ndocker:x:999:app\n";

    fn accounts() -> Accounts {
        Accounts::from_text(Some(PASSWD), Some(GROUP))
    }

    #[test]
    fn user_specs() {
        type Case<'a> = (&'a str, (u32, u32, &'a [u32]));
        let cases: &[Case] = &[
            ("", (0, 0, &[10])),
            ("root", (0, 0, &[10])),
            ("0", (0, 0, &[10])),
            ("nobody", (65534, 65534, &[])),
            ("www-data:www-data", (33, 33, &[])),
            ("app", (1000, 1000, &[10, 999])),
            ("1000", (1000, 1000, &[10, 999])),
            ("app:docker", (1000, 999, &[])),
            ("1234", (1234, 0, &[])),
            ("1234:5678", (1234, 5678, &[])),
            ("nobody:10", (65534, 10, &[])),
        ];
        for (spec, (uid, gid, sgids)) in cases {
            let user = exec_user(spec, &accounts()).unwrap();
            assert_eq!(
                (user.uid, user.gid, user.sgids.as_slice()),
                (*uid, *gid, *sgids),
                "{spec}"
            );
        }
    }

    #[test]
    fn unknown_names_are_refused_in_dockers_words() {
        let cases = [
            (
                "nosuchuser",
                "unable to find user nosuchuser: no matching entries in passwd file",
            ),
            (
                "app:nosuchgroup",
                "unable to find group nosuchgroup: no matching entries in group file",
            ),
            (
                "broken",
                "unable to find user broken: no matching entries in passwd file",
            ),
            ("-1", "uids and gids must be in range 0-2147483647"),
        ];
        for (spec, message) in cases {
            assert_eq!(
                exec_user(spec, &accounts()).unwrap_err().to_string(),
                message,
                "{spec}"
            );
        }
    }

    #[test]
    fn without_account_files_only_numbers_work() {
        let none = Accounts::default();
        assert_eq!(
            exec_user("", &none).unwrap(),
            ExecUser {
                uid: 0,
                gid: 0,
                sgids: vec![]
            }
        );
        assert_eq!(exec_user("5:6", &none).unwrap().gid, 6);
        assert_eq!(
            exec_user("nobody", &none).unwrap_err().to_string(),
            "unable to find user nobody: no matching entries in passwd file"
        );
    }

    #[test]
    fn process_user_lists_primary_then_supplementary_then_group_add() {
        let groups = vec!["docker".to_owned(), "4242".to_owned(), "wheel".to_owned()];
        let user = process_user("app", &groups, &accounts()).unwrap();
        assert_eq!(user.uid(), 1000);
        assert_eq!(
            user.additional_gids().clone().unwrap(),
            vec![1000, 10, 999, 999, 4242, 10]
        );
        let err = process_user("", &["nope".to_owned()], &accounts()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Unable to find group nope: no matching entries in group file"
        );
    }

    #[test]
    fn account_files_are_read_inside_the_root() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("passwd"), "evil:x:0:0::/:/bin/sh\n").unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        // An absolute symlink means the container's own /..., never the host's.
        std::os::unix::fs::symlink(
            outside.path().join("passwd"),
            root.path().join("etc/passwd"),
        )
        .unwrap();
        std::os::unix::fs::symlink(
            "../../../../../../../etc/shadow",
            root.path().join("etc/group"),
        )
        .unwrap();
        let accounts = Accounts::read(root.path()).unwrap();
        assert!(accounts.passwd.is_none());
        assert!(accounts.group.is_none());
        std::fs::remove_file(root.path().join("etc/passwd")).unwrap();
        std::fs::write(root.path().join("etc/passwd"), PASSWD).unwrap();
        let user = resolve_user(root.path(), "www-data").unwrap();
        assert_eq!((user.uid(), user.gid()), (33, 33));
    }

    #[test]
    fn a_fifo_is_not_read() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        nix::unistd::mkfifo(
            &root.path().join("etc/passwd"),
            nix::sys::stat::Mode::S_IRWXU,
        )
        .unwrap();
        assert!(Accounts::read(root.path()).unwrap().passwd.is_none());
    }
}
