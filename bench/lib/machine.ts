import os from 'node:os';

/** What the numbers were measured on, for the report. */
export interface MachineDescription {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  servers: string[];
}

/** Describes this machine; `servers` are the versions the store benches read from their servers. */
export function describeMachine(servers: string[]): MachineDescription {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    servers,
  };
}
