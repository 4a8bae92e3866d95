// werun-sam-client/react: React hooks for Taro pages (React 18, Taro 4).
// Each gives the call's data, loading and error, aborts its call when the
// component unmounts, and never surfaces that abort.
import Taro, { useDidHide, useDidShow } from "@tarojs/taro";
import { useCallback, useEffect, useRef, useState } from "react";

import { isWeRunError, type AbortSignalLike, type Board, type Cached, type DateString, type Joined, type MethodErrors, type Summary, type Sync, type WeRunClient } from "../client.js";
import type { WeRunError } from "../errors.js";

/** What a hook gives: the last data (kept while a refresh runs), whether a call runs, its failure. */
export interface WeRunState<T, M extends keyof MethodErrors> {
  data?: T;
  loading: boolean;
  error?: WeRunError<MethodErrors[M]>;
  /** With { cache: true }: the data came from the offline cache. */
  stale: boolean;
  /** Runs the call again. */
  refresh(): void;
}

/** The reads' options: the offline cache, and a key whose change reads again (e.g. useWeRunSync's data). */
export interface ReadOptions {
  cache?: boolean;
  key?: unknown;
}

type Runner<T> = ((signal: AbortSignalLike) => Promise<T | Cached<T>>) | undefined;

/**
 * Syncs WeRun data when the page shows: once on the first show (the mount
 * and useDidShow's first call are one show), then once each time the page
 * shows again after it was hidden.
 */
export function useWeRunSync(client: WeRunClient): WeRunState<Sync, "sync"> {
  const call = useRunner<Sync, "sync">((signal) => client.sync({ signal }));
  // Whether this show has synced: set by the first of the mount and
  // useDidShow (Taro fires it on the first show too), cleared on hide.
  const synced = useRef(false);
  const onShow = () => {
    if (synced.current) return;
    synced.current = true;
    call.start();
  };
  useEffect(onShow, []);
  useDidShow(onShow);
  useDidHide(() => {
    synced.current = false;
  });
  return call.state;
}

/** The summary (today, streak, rank, ...). */
export function useSummary(client: WeRunClient, options: ReadOptions = {}): WeRunState<Summary, "summary"> {
  const { cache, key } = options;
  return useRead<Summary, "summary">((signal) => (cache ? client.summary({ signal, cache }) : client.summary({ signal })), [client, cache, key]);
}

/** A group's board of date (default today); idle while groupId is undefined. */
export function useGroupBoard(client: WeRunClient, groupId: string | undefined, options: ReadOptions & { date?: DateString } = {}): WeRunState<Board, "groupBoard"> {
  const { cache, key, date } = options;
  const run: Runner<Board> =
    groupId === undefined ? undefined : (signal) => (cache ? client.groupBoard(groupId, date, { signal, cache }) : client.groupBoard(groupId, date, { signal }));
  return useRead<Board, "groupBoard">(run, [client, groupId, date, cache, key]);
}

/**
 * Joins the group chat whose card opened the mini program: the shareTicket
 * of Taro.getEnterOptionsSync() (read again on each show: a warm start
 * from another card brings another), or the one given. Idle without one.
 */
export function useJoinFromShareTicket(client: WeRunClient, shareTicket?: string): WeRunState<Joined, "joinGroup"> {
  const [entered, setEntered] = useState(() => Taro.getEnterOptionsSync().shareTicket);
  useDidShow(() => setEntered(Taro.getEnterOptionsSync().shareTicket));
  const ticket = shareTicket ?? entered;
  const run: Runner<Joined> =
    ticket === undefined
      ? undefined
      : (signal) => client.joinGroup(() => new Promise((success, fail) => Taro.getShareInfo({ shareTicket: ticket, success, fail })), { signal });
  return useRead<Joined, "joinGroup">(run, [client, ticket]);
}

/** A call run on mount and whenever deps change. */
function useRead<T, M extends keyof MethodErrors>(run: Runner<T>, deps: unknown[]): WeRunState<T, M> {
  const call = useRunner<T, M>(run);
  useEffect(() => {
    call.start();
    return call.abort;
  }, deps);
  return call.state;
}

/** The state of run's calls: start() aborts the one running and starts another. */
function useRunner<T, M extends keyof MethodErrors>(run: Runner<T>): { state: WeRunState<T, M>; start(): void; abort(): void } {
  const [state, setState] = useState<Omit<WeRunState<T, M>, "refresh">>({ loading: run !== undefined, stale: false });
  const latest = useRef(run);
  latest.current = run;
  const running = useRef<Signal>();
  const abort = useCallback(() => running.current?.abort(), []);
  const start = useCallback(() => {
    abort();
    const r = latest.current;
    if (!r) return setState((s) => (s.loading ? { ...s, loading: false } : s));
    const signal = new Signal();
    running.current = signal;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    r(signal).then(
      (v) => {
        if (signal.aborted) return;
        const cached = isCached(v);
        setState({ data: cached ? v.value : (v as T), loading: false, stale: cached ? v.stale : false });
      },
      (e: unknown) => {
        if (signal.aborted) return;
        setState((s) => ({ ...s, loading: false, error: (isWeRunError(e) ? e : undefined) as WeRunError<MethodErrors[M]> | undefined }));
        if (!isWeRunError(e)) throw e;
      },
    );
  }, []);
  useEffect(() => abort, []);
  return { state: { ...state, refresh: start }, start, abort };
}

function isCached<T>(v: T | Cached<T>): v is Cached<T> {
  return typeof v === "object" && v !== null && "stale" in v && "cachedAt" in v && "value" in v;
}

/** A minimal abort signal: the mini program runtime may have no AbortController. */
class Signal implements AbortSignalLike {
  aborted = false;
  onabort: (() => void) | null = null;
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.onabort?.();
  }
}
