export function runsAlone(file: string): boolean;
