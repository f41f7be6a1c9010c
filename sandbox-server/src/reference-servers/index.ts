// One set of reference servers: the shared long-running set for live demos, or a fresh set for
// each run and grade (so concurrent learners never see each other).
import { TcpEchoServer } from './tcp-echo.ts';
import { TcpChatServer, type ChatLimits } from './tcp-chat.ts';
import { UdpEchoServer } from './udp-echo.ts';
import type { TrafficLog } from '../traffic/traffic-log.ts';

export interface ReferenceServers {
  echo: TcpEchoServer;
  chat: TcpChatServer;
  udpEcho: UdpEchoServer;
  ports: { echo: number; chat: number; udpEcho: number };
  close(): Promise<void>;
}

export async function startReferenceServers(
  options: {
    host?: string;
    ports?: Partial<Record<'echo' | 'chat' | 'udpEcho', number>>;
    traffic?: TrafficLog;
    /** Connection cap and timeouts for the TCP servers (defaults: DEFAULT_TCP_LIMITS, no registration limit). */
    limits?: Partial<ChatLimits>;
  } = {},
): Promise<ReferenceServers> {
  const host = options.host ?? '127.0.0.1';
  const { registerTimeoutMs, linesPerMinute, lineBurst, ...tcpLimits } = options.limits ?? {};
  const echo = new TcpEchoServer(options.traffic, tcpLimits);
  const chat = new TcpChatServer(options.traffic, { ...tcpLimits, registerTimeoutMs, linesPerMinute, lineBurst });
  const udpEcho = new UdpEchoServer(options.traffic);
  const close = async () => {
    await Promise.allSettled([echo.close(), chat.close(), udpEcho.close()]);
  };
  try {
    const [echoPort, chatPort, udpPort] = await Promise.all([
      echo.listen(options.ports?.echo ?? 0, host),
      chat.listen(options.ports?.chat ?? 0, host),
      udpEcho.listen(options.ports?.udpEcho ?? 0, host),
    ]);
    return { echo, chat, udpEcho, ports: { echo: echoPort, chat: chatPort, udpEcho: udpPort }, close };
  } catch (err) {
    await close();
    throw err;
  }
}
