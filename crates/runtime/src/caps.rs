//! The five capability sets of a container process, applied around the switch of user.

use std::str::FromStr;

use caps::{CapSet, Capability as KernelCap, CapsHashSet};
use oci_spec::runtime::{Capabilities, LinuxCapabilities};

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub(crate) struct CapPlan {
    bounding: CapsHashSet,
    effective: CapsHashSet,
    permitted: CapsHashSet,
    inheritable: CapsHashSet,
    ambient: CapsHashSet,
}

fn convert(set: Option<&Capabilities>, supported: &CapsHashSet) -> CapsHashSet {
    set.into_iter()
        .flatten()
        .filter_map(|cap| KernelCap::from_str(&format!("CAP_{cap}")).ok())
        // Capabilities that this kernel does not know are left out, as runc does.
        .filter(|cap| supported.contains(cap))
        .collect()
}

impl CapPlan {
    /// `None` when config.json has no `capabilities`: the process keeps what it has, as with runc.
    pub fn from_spec(spec: Option<&LinuxCapabilities>) -> Option<CapPlan> {
        let spec = spec?;
        let supported = caps::runtime::thread_all_supported();
        Some(CapPlan {
            bounding: convert(spec.bounding().as_ref(), &supported),
            effective: convert(spec.effective().as_ref(), &supported),
            permitted: convert(spec.permitted().as_ref(), &supported),
            inheritable: convert(spec.inheritable().as_ref(), &supported),
            ambient: convert(spec.ambient().as_ref(), &supported),
        })
    }

    /// Narrows the bounding set; needs CAP_SETPCAP, so it comes before the user switch.
    pub fn drop_bounding(&self) -> Result<()> {
        let current =
            caps::read(None, CapSet::Bounding).map_err(caps_error("reading bounding set"))?;
        for cap in current.difference(&self.bounding) {
            caps::drop(None, CapSet::Bounding, *cap)
                .map_err(caps_error("dropping from bounding set"))?;
        }
        Ok(())
    }

    /// Sets effective, inheritable, permitted and ambient, after the user switch.
    /// Effective shrinks first, so that it always stays within permitted.
    pub fn apply(&self) -> Result<()> {
        caps::set(
            None,
            CapSet::Effective,
            &self
                .effective
                .intersection(&self.permitted)
                .copied()
                .collect(),
        )
        .map_err(caps_error("setting effective set"))?;
        caps::set(None, CapSet::Inheritable, &self.inheritable)
            .map_err(caps_error("setting inheritable set"))?;
        caps::set(None, CapSet::Permitted, &self.permitted)
            .map_err(caps_error("setting permitted set"))?;
        caps::set(None, CapSet::Effective, &self.effective)
            .map_err(caps_error("setting effective set"))?;
        caps::clear(None, CapSet::Ambient).map_err(caps_error("clearing ambient set"))?;
        for cap in &self.ambient {
            caps::raise(None, CapSet::Ambient, *cap)
                .map_err(caps_error("raising ambient capability"))?;
        }
        Ok(())
    }
}

fn caps_error(what: &'static str) -> impl Fn(caps::errors::CapsError) -> Error {
    move |e| Error::ContainerInit(format!("{what}: {e}"))
}
