//! The endpoints controller: keeps one Endpoints object per selector Service.
pub mod subsets;
