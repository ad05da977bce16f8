//! A small synchronous rtnetlink client: just the requests the network
//! modes need (create a veth or macvlan inside another namespace, rename,
//! address, bring up, default route, delete). Messages are built and parsed
//! by `netlink-packet-route`; each request waits for the kernel's ack.

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage,
    NetlinkPayload,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoMacVlan, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
    MacVlanMode,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};
use std::io;
use std::net::IpAddr;

pub struct Netlink {
    socket: Socket,
    seq: u32,
}

/// The index of interface `name` in the current network namespace.
pub fn index_of(name: &str) -> io::Result<u32> {
    let c = std::ffi::CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    super::sys::if_nametoindex(&c)
}

fn link_info(kind: InfoKind, data: InfoData) -> LinkAttribute {
    LinkAttribute::LinkInfo(vec![LinkInfo::Kind(kind), LinkInfo::Data(data)])
}

impl Netlink {
    pub fn open() -> io::Result<Netlink> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        Ok(Netlink { socket, seq: 0 })
    }

    /// Send one request and wait for its ack; a NACK becomes its errno.
    fn request(&mut self, msg: RouteNetlinkMessage, create: bool) -> io::Result<()> {
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_ACK;
        if create {
            header.flags |= NLM_F_CREATE | NLM_F_EXCL;
        }
        self.seq += 1;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(msg));
        packet.finalize();
        let mut buf = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut buf);
        self.socket.send(&buf, 0)?;
        let mut reply = vec![0u8; 8192];
        loop {
            let n = self.socket.recv(&mut &mut reply[..], 0)?;
            let mut at = 0;
            while at < n {
                let msg = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&reply[at..n])
                    // A reply this crate cannot read: what EBADMSG names.
                    .map_err(|_| io::Error::from_raw_os_error(libc::EBADMSG))?;
                let len = msg.header.length as usize;
                if msg.header.sequence_number == self.seq
                    && let NetlinkPayload::Error(e) = &msg.payload
                {
                    return match e.code {
                        None => Ok(()),
                        Some(_) => Err(e.to_io()),
                    };
                }
                if len == 0 {
                    break;
                }
                at += len;
            }
        }
    }

    /// A veth pair: `host` here, `peer` created directly in the network
    /// namespace of process `pid` (so it never shows on the host).
    pub fn add_veth(&mut self, host: &str, peer: &str, pid: u32) -> io::Result<()> {
        let mut inner = LinkMessage::default();
        inner.attributes = vec![
            LinkAttribute::IfName(peer.into()),
            LinkAttribute::NetNsPid(pid),
        ];
        let mut m = LinkMessage::default();
        m.attributes = vec![
            LinkAttribute::IfName(host.into()),
            link_info(InfoKind::Veth, InfoData::Veth(InfoVeth::Peer(inner))),
        ];
        self.request(RouteNetlinkMessage::NewLink(m), true)
    }

    /// A bridge-mode macvlan on `parent`, moved into process `pid`'s
    /// network namespace as it is created.
    pub fn add_macvlan(&mut self, name: &str, parent: u32, pid: u32) -> io::Result<()> {
        let mut m = LinkMessage::default();
        m.attributes = vec![
            LinkAttribute::IfName(name.into()),
            LinkAttribute::Link(parent),
            LinkAttribute::NetNsPid(pid),
            link_info(
                InfoKind::MacVlan,
                InfoData::MacVlan(vec![InfoMacVlan::Mode(MacVlanMode::Bridge)]),
            ),
        ];
        self.request(RouteNetlinkMessage::NewLink(m), true)
    }

    pub fn delete_link(&mut self, index: u32) -> io::Result<()> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        self.request(RouteNetlinkMessage::DelLink(m), false)
    }

    pub fn rename(&mut self, index: u32, name: &str) -> io::Result<()> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        m.attributes = vec![LinkAttribute::IfName(name.into())];
        self.request(RouteNetlinkMessage::SetLink(m), false)
    }

    pub fn set_up(&mut self, index: u32) -> io::Result<()> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        m.header.flags = LinkFlags::Up;
        m.header.change_mask = LinkFlags::Up;
        self.request(RouteNetlinkMessage::SetLink(m), false)
    }

    pub fn add_address(&mut self, index: u32, addr: IpAddr, prefix: u8) -> io::Result<()> {
        let mut m = AddressMessage::default();
        m.header.family = family(addr);
        m.header.prefix_len = prefix;
        m.header.index = index;
        m.attributes = vec![
            AddressAttribute::Local(addr),
            AddressAttribute::Address(addr),
        ];
        self.request(RouteNetlinkMessage::NewAddress(m), true)
    }

    pub fn add_default_route(&mut self, gateway: IpAddr) -> io::Result<()> {
        let mut m = RouteMessage::default();
        m.header.address_family = family(gateway);
        m.header.table = RouteHeader::RT_TABLE_MAIN;
        m.header.protocol = RouteProtocol::Boot;
        m.header.scope = RouteScope::Universe;
        m.header.kind = RouteType::Unicast;
        m.attributes = vec![RouteAttribute::Gateway(match gateway {
            IpAddr::V4(a) => RouteAddress::Inet(a),
            IpAddr::V6(a) => RouteAddress::Inet6(a),
        })];
        self.request(RouteNetlinkMessage::NewRoute(m), true)
    }
}

fn family(a: IpAddr) -> AddressFamily {
    match a {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

/// The interfaces of the current network namespace other than lo (asked
/// of the kernel: /sys may not be mounted in the sandbox).
pub fn non_loopback_links() -> Vec<(u32, String)> {
    super::sys::if_nameindex()
        .into_iter()
        .filter(|(_, name)| name != "lo")
        .collect()
}
