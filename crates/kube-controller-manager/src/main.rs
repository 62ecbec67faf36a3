fn main() {
    eprintln!("kube-controller-manager: not implemented yet");
    std::process::exit(1);
}
