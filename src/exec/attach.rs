//! The launcher's side of the network modes: what connects the child's new
//! network namespace to the world, and takes it away again when the sandbox
//! ends or its setup fails (dropping an [`Attached`]).

use super::failure::{Call, Cause, Failure};
use super::netlink::{Netlink, index_of};
use super::pasta::{self, Pasta};
use super::steps::Network;
use crate::plan::IpCidr;

/// What the launcher attached; undone on drop.
#[derive(Default)]
pub enum Attached {
    #[default]
    Nothing,
    /// Held for its drop, which stops pasta.
    Pasta(#[allow(dead_code)] Pasta),
    /// The host end of a veth pair, by name. The kernel would remove it with
    /// the namespace of the other end, but later: deleting it here means it
    /// is gone when `sandbox run` returns.
    Veth(String),
    /// A macvlan lives in the sandbox's namespace only; it goes with it.
    Macvlan,
}

/// The host end's name: short (IFNAMSIZ is 16) and unique per sandbox.
pub fn veth_host_name(child: i32) -> String {
    format!("sb{child}")
}

/// Name of a new macvlan while it is created (then renamed inside).
fn macvlan_name(child: i32) -> String {
    format!("sbm{child}")
}

/// Connect the child's network namespace as `network` says.
pub fn attach(
    network: &Network,
    child: i32,
    pasta_pid_file: Option<&std::fs::File>,
    reaper: &super::reaper::Reaper,
) -> Result<Attached, Failure> {
    match network {
        Network::Pasta {
            tcp,
            udp,
            dns_forward,
            host_loopback,
            to_host_tcp,
            to_host_udp,
            userns,
            root,
        } => {
            let o = pasta::Options {
                child,
                tcp,
                udp,
                dns_forward: *dns_forward,
                host_loopback: *host_loopback,
                to_host_tcp,
                to_host_udp,
                userns: *userns,
            };
            let pidfile =
                pasta_pid_file.ok_or_else(|| Failure::new(libc::EBADF, "no pid file for pasta"))?;
            reaper.pasta().call("tell the reaper about pasta")?;
            pasta::start(&o, *root, pidfile).map(Attached::Pasta)
        }
        Network::Veth {
            host_address,
            host_interface,
        } => veth(child, host_address, *host_interface),
        Network::Macvlan { parent } => macvlan(child, parent),
    }
}

fn veth(child: i32, host_address: &IpCidr, name: Option<&str>) -> Result<Attached, Failure> {
    let host = name.map_or_else(|| veth_host_name(child), str::to_string);
    let mut nl = Netlink::open().call("open a netlink socket")?;
    nl.add_veth(&host, super::net::INTERFACE, child as u32)
        .call_with(|| format!("create veth pair {host}"))?;
    // From here on, a failure removes the pair (the drop of `made`).
    let made = Attached::Veth(host.clone());
    let index = index_of(&host).call_with(|| format!("if_nametoindex {host}"))?;
    nl.add_address(index, host_address.addr, host_address.prefix)
        .call_with(|| format!("address {host_address} on {host}"))?;
    nl.set_up(index).call_with(|| format!("bring {host} up"))?;
    Ok(made)
}

fn macvlan(child: i32, parent: &str) -> Result<Attached, Failure> {
    let index = index_of(parent).map_err(|e| {
        e.failure(format!("if_nametoindex {parent}"))
            .with_detail(format!(
                "parent interface '{parent}' does not exist on the host (see: ip link)"
            ))
    })?;
    let mut nl = Netlink::open().call("open a netlink socket")?;
    nl.add_macvlan(&macvlan_name(child), index, child as u32)
        .call_with(|| format!("create a macvlan on {parent}"))?;
    Ok(Attached::Macvlan)
}

impl Drop for Attached {
    fn drop(&mut self) {
        if let Attached::Veth(name) = self
            && let Ok(index) = index_of(name)
            && let Ok(mut nl) = Netlink::open()
        {
            let _ = nl.delete_link(index);
        }
    }
}
