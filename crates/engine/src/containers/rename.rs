//! `POST /containers/{id}/rename`: a new name, checked and swapped under the registry's lock.

use std::sync::Arc;

use crate::Engine;
use crate::error::{EngineError, Result};

use super::names::validate_name;
use super::{Containers, name_in_use};

impl Containers {
    /// Moves `id`'s name to `new`, unless another container has it.
    fn rename(&self, id: &str, new: &str) -> Result<String> {
        let mut registry = self.write();
        if let Some(other) = registry.names.get(new) {
            return Err(name_in_use(new, other));
        }
        let handle = registry
            .by_id
            .get(id)
            .cloned()
            .ok_or_else(|| EngineError::NoSuchContainer(id.to_owned()))?;
        let old = std::mem::replace(&mut handle.record().name, new.to_owned());
        registry.names.remove(&old);
        registry.names.insert(new.to_owned(), id.to_owned());
        Ok(old)
    }
}

impl Engine {
    pub async fn rename_container(self: &Arc<Self>, reference: &str, new_name: &str) -> Result<()> {
        if reference.is_empty() || new_name.is_empty() {
            return Err(EngineError::InvalidArgument(
                "Neither old nor new names may be empty".into(),
            ));
        }
        let new_name = validate_name(new_name)?;
        let handle = self.containers.get(reference)?;
        let _op = handle.ops.lock().await;
        if handle.record().name == new_name {
            return Err(EngineError::InvalidArgument(
                "Renaming a container with the same name as its current name".into(),
            ));
        }
        let old = self.containers.rename(&handle.id, &new_name)?;
        if let Err(e) = self.persist(&handle) {
            let _ = self.containers.rename(&handle.id, &old);
            return Err(e);
        }
        self.publish_container_with(&handle, "rename", &[("oldName", format!("/{old}"))]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::Container;
    use super::*;

    fn container(id: &str, name: &str) -> Container {
        Container::for_tests(id, name)
    }

    #[test]
    fn rename_moves_the_name_and_refuses_a_taken_one() {
        let containers = Containers::default();
        containers.insert(container("a1", "one")).unwrap();
        containers.insert(container("b2", "two")).unwrap();
        let err = containers.rename("a1", "two").unwrap_err();
        assert!(
            err.to_string()
                .contains("The container name \"/two\" is already in use by container \"b2\"")
        );
        assert_eq!(containers.rename("a1", "uno").unwrap(), "one");
        assert!(containers.name_taken("one").is_none());
        assert_eq!(containers.get("uno").unwrap().id, "a1");
        assert_eq!(containers.get("a1").unwrap().record().name, "uno");
    }
}
