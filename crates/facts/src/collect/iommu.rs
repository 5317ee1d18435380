//! PLACEHOLDER: being written by a helper; replace this whole file.
#![allow(missing_docs, unused_variables)]
use crate::*;
use std::collections::BTreeMap;
pub fn collect_iommu(root: &Root) -> Source<Iommu> { Source::Error(FactError::new(FactErrorKind::NotPresent, "", "not collected yet")) }
pub fn collect_pci(root: &Root) -> Source<Vec<PciDevice>> { Source::Error(FactError::new(FactErrorKind::NotPresent, "", "not collected yet")) }
