//! A CRI v1 container runtime: images, pod sandboxes, containers, CNI, streaming.
pub mod image;
