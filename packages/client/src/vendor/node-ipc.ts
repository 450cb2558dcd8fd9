// What the client uses of node-ipc 12.0.0: the build bundles it into dist/vendor, so installing the client installs no node-ipc.
export { IPCModule } from 'node-ipc'
