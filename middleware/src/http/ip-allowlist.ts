// DIDOMI_ALLOWED_IPS: exact addresses or IPv4 CIDR ranges (Didomi calls from a documented fixed IP, reference/didomi.md).
import { BlockList, isIPv4, isIPv6 } from 'node:net';

const cache = new Map<string, BlockList>();

export function ipAllowed(ip: string, allowed: string[]): boolean {
  const key = allowed.join(',');
  let list = cache.get(key);
  if (!list) {
    list = new BlockList();
    for (const a of allowed) {
      const [addr, bits] = a.split('/');
      const type = isIPv6(addr) ? 'ipv6' : 'ipv4';
      if (bits) list.addSubnet(addr, Number(bits), type);
      else if (isIPv4(addr) || isIPv6(addr)) list.addAddress(addr, type);
    }
    cache.set(key, list);
  }
  const plain = ip.replace(/^::ffff:/, '');
  return list.check(plain, isIPv6(plain) ? 'ipv6' : 'ipv4');
}
