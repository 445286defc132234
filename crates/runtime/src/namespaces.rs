//! Which namespaces a container gets: new ones (clone flags) and existing ones to join (by path).

use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use nix::fcntl::{OFlag, open};
use nix::sys::stat::Mode;
use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType};

use crate::error::{Error, Result};
use crate::spec::namespace_name;
use crate::sys;

pub(crate) fn clone_flag(typ: LinuxNamespaceType) -> libc::c_int {
    match typ {
        LinuxNamespaceType::Mount => libc::CLONE_NEWNS,
        LinuxNamespaceType::Cgroup => libc::CLONE_NEWCGROUP,
        LinuxNamespaceType::Uts => libc::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => libc::CLONE_NEWIPC,
        LinuxNamespaceType::User => libc::CLONE_NEWUSER,
        LinuxNamespaceType::Pid => libc::CLONE_NEWPID,
        LinuxNamespaceType::Network => libc::CLONE_NEWNET,
        LinuxNamespaceType::Time => libc::CLONE_NEWTIME,
    }
}

/// A namespace to join, opened before the clone so that its path is resolved on the host.
#[derive(Debug)]
pub(crate) struct JoinNamespace {
    pub typ: LinuxNamespaceType,
    pub path: PathBuf,
    pub fd: OwnedFd,
}

/// The namespace plan of one container.
#[derive(Debug, Default)]
pub(crate) struct Namespaces {
    /// Namespaces created fresh at clone time. A new cgroup namespace is not in here: it is
    /// unshared by the init after it has been moved into its cgroup, so that its root is there.
    pub clone_flags: libc::c_int,
    pub new_cgroup_ns: bool,
    pub join: Vec<JoinNamespace>,
}

impl Namespaces {
    pub fn from_spec(namespaces: &[LinuxNamespace]) -> Result<Namespaces> {
        let mut plan = Namespaces::default();
        for ns in namespaces {
            match ns.path() {
                Some(path) => {
                    let fd = open(path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
                        .map_err(|e| {
                            Error::path(
                                "opening the namespace to join",
                                path,
                                std::io::Error::from(e),
                            )
                        })?;
                    plan.join.push(JoinNamespace {
                        typ: ns.typ(),
                        path: path.clone(),
                        fd,
                    });
                }
                None if ns.typ() == LinuxNamespaceType::Cgroup => plan.new_cgroup_ns = true,
                None => plan.clone_flags |= clone_flag(ns.typ()),
            }
        }
        Ok(plan)
    }

    /// Joins the pid namespace listed by path, if any: done in the parent, since a pid
    /// namespace only applies to the children made after setns.
    pub fn join_pid_for_children(&self) -> Result<()> {
        for ns in self
            .join
            .iter()
            .filter(|ns| ns.typ == LinuxNamespaceType::Pid)
        {
            join_one(ns)?;
        }
        Ok(())
    }

    /// Joins every other listed namespace; called in the child. The mount namespace goes last:
    /// once in it, the host's paths are gone.
    pub fn join_in_child(&self) -> Result<()> {
        let mut rest: Vec<&JoinNamespace> = self
            .join
            .iter()
            .filter(|ns| ns.typ != LinuxNamespaceType::Pid)
            .collect();
        rest.sort_by_key(|ns| ns.typ == LinuxNamespaceType::Mount);
        for ns in rest {
            join_one(ns)?;
        }
        Ok(())
    }
}

fn join_one(ns: &JoinNamespace) -> Result<()> {
    sys::setns(ns.fd.as_fd(), clone_flag(ns.typ)).map_err(|e| {
        Error::ContainerInit(format!(
            "joining {} namespace {}: {}",
            namespace_name(ns.typ),
            ns.path.display(),
            std::io::Error::from(e)
        ))
    })
}
