//! The Kubernetes service proxy: iptables, IPVS and userspace modes.
