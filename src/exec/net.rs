//! Inside the sandbox's network namespace: loopback up (one ioctl), and
//! the interface the launcher attached (veth end or macvlan) configured.

use super::failure::{Call, Failure};
use super::kernel::Kernel;
use crate::plan::IpCidr;
use std::io;
use std::net::IpAddr;

pub fn loopback_up() -> io::Result<()> {
    super::sys::interface_up(c"lo")
}

/// The name the attached interface gets inside.
pub const INTERFACE: &str = "eth0";

/// Name the one interface the launcher attached eth0, address it, bring it
/// up and route through `gateway`. Without an address it is only renamed
/// and brought up: the app configures it.
pub fn configure_interface(address: Option<IpCidr>, gateway: Option<IpAddr>) -> io::Result<()> {
    use super::netlink::{Netlink, non_loopback_links};
    let links = non_loopback_links();
    let [(index, name)] = links.as_slice() else {
        // None (the launcher's step did not happen) or more than one
        // (a joined namespace): either way not what the plan made.
        return Err(io::Error::from_raw_os_error(libc::ENODEV));
    };
    let mut nl = Netlink::open()?;
    if name != INTERFACE {
        nl.rename(*index, INTERFACE)?;
    }
    if let Some(a) = address {
        nl.add_address(*index, a.addr, a.prefix)?;
    }
    nl.set_up(*index)?;
    if let Some(g) = gateway {
        nl.add_default_route(g)?;
    }
    Ok(())
}

/// /proc/sys/net shows the opener's network namespace: this one, whose
/// ports and ICMP sockets are the sandbox's own.
pub fn app_sysctls(k: &dyn Kernel) -> Result<(), Failure> {
    write(k, "/proc/sys/net/ipv4/ip_unprivileged_port_start", "0")?;
    // Unprivileged ICMP echo sockets (ping) for the groups of the first
    // gid_map line, the sandbox's own group among them: both ends of the
    // range must be mapped here, or the kernel refuses it.
    let map = k
        .read_file(c"/proc/self/gid_map")
        .call("read /proc/self/gid_map")?;
    let map = String::from_utf8_lossy(&map);
    let mut first = map.split_whitespace().map(|w| w.parse::<u64>());
    let range = match (first.next(), first.nth(1)) {
        (Some(Ok(inside)), Some(Ok(count))) if count > 0 => {
            format!("{inside} {}", (inside + count - 1).min(u32::MAX as u64 - 1))
        }
        _ => {
            return Err(Failure::new(libc::EINVAL, "read /proc/self/gid_map")
                .with_detail(format!("no id range in {map:?}")));
        }
    };
    write(k, "/proc/sys/net/ipv4/ping_group_range", &range)
}

fn write(k: &dyn Kernel, path: &str, text: &str) -> Result<(), Failure> {
    super::userns::write_file(k, None, path, path, text)
}
