// The to-do list the daemon owns: its state and actions, shared by the daemon and the command line.
import { action, defineStore } from '@ipc-state/server'
import { z } from 'zod'

export interface Task {
  id: number
  text: string
  done: boolean
}

export const todoStore = defineStore({
  initialState: { tasks: [] as Task[], nextId: 1, daemonPid: 0 },
  actions: {
    // Each input's type comes from its schema, and the daemon checks every call against it.
    add: action(z.string().trim().min(1).max(200), (state, text) => {
      const task = { id: state.nextId++, text, done: false }
      state.tasks.push(task)
      return task.id
    }),
    done: action(z.number().int().positive(), (state, id) => {
      const task = state.tasks.find((candidate) => candidate.id === id)
      if (task === undefined) throw new Error(`there is no task #${id}`)
      task.done = true
    }),
    // Called by the daemon itself when it starts, so that `stop` knows which process to signal.
    daemonStarted: action(z.number().int().positive(), (state, pid) => {
      state.daemonPid = pid
    }),
  },
})
