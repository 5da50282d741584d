import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth.guard';
import { TokenVerifier, type AuthConfig } from './tokens';

/** Registers the token verifier and a global AuthGuard. */
@Module({})
export class AuthModule {
  static forRootAsync(o: { inject?: unknown[]; useFactory: (...args: never[]) => AuthConfig }): DynamicModule {
    return {
      module: AuthModule,
      global: true,
      providers: [
        {
          provide: TokenVerifier,
          useFactory: (...args: never[]) => new TokenVerifier(o.useFactory(...args)),
          inject: (o.inject ?? []) as never[],
        },
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
      exports: [TokenVerifier],
    };
  }
}
